#include <gtest/gtest.h>
TEST(Pki, Placeholder) { SUCCEED(); }
