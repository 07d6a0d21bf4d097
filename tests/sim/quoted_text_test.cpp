// Echoing outside input in messages (fpsim/quoted_text.hpp): an escape
// sequence never reaches the terminal, a NUL never cuts a message short, a
// megabyte line makes a short message (issue 11). Expected strings are
// written out by hand.
#include "fpsim/quoted_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fpsim {
namespace {

TEST(QuotedText, EscapesControlsKeepsPrintableUtf8AndShortens) {
  EXPECT_EQ(quoted_text("abc"), "'abc'");
  EXPECT_EQ(quoted_text("\x1b[31mred"), "'\\x1b[31mred'");
  EXPECT_EQ(quoted_text(std::string("a\0b", 3)), "'a\\x00b'");
  EXPECT_EQ(quoted_text("a\tb\nc\r"), "'a\\tb\\nc\\r'");
  EXPECT_EQ(quoted_text("back\\slash"), "'back\\\\slash'");
  EXPECT_EQ(quoted_text("\x7f"), "'\\x7f'");
  EXPECT_EQ(quoted_text("caf\xc3\xa9 \xe6\x95\xb0"), "'caf\xc3\xa9 \xe6\x95\xb0'");  // é, 数 kept
  EXPECT_EQ(quoted_text("\xc2\x9b"
                        "2J"),
            "'\\xc2\\x9b2J'");                                  // C1 CSI escaped
  EXPECT_EQ(quoted_text("\xff\xc3"), "'\\xff\\xc3'");           // not UTF-8
  EXPECT_EQ(quoted_text("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");  // a surrogate
  const std::string long_line(1 << 20, '7');
  EXPECT_EQ(quoted_text(long_line), "'" + std::string(60, '7') + "...' (1048576 bytes)");
  EXPECT_EQ(escaped_text("x\x1by", 400), "x\\x1by");
  EXPECT_EQ(escaped_text(std::string(500, 'a'), 400), std::string(400, 'a') + "...");
}

}  // namespace
}  // namespace fpsim
