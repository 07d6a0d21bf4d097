// The pieces every subcommand shares: strict option values, named choices,
// negative numbers as values, input echoed safely in messages, the one number
// reader of convert and quantize and the one writer of decimals
// (docs/cli.md, "Options" and "Messages").
#include "option_values.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "code_text.hpp"
#include "command_line.hpp"
#include "fpsim/error.hpp"

namespace fpsim::cli {
namespace {

std::string error_of(std::string_view text, uint64_t min, uint64_t max) {
  try {
    parse_whole_number("--samples", text, min, max);
  } catch (const OptionError& e) {
    return e.what();
  }
  return "no error";
}

TEST(WholeNumberOption, ReadsDigitsOnlyWithinTheRange) {
  EXPECT_EQ(parse_whole_number("--k", "0", 0, 10), 0u);
  EXPECT_EQ(parse_whole_number("--k", "10", 0, 10), 10u);
  EXPECT_EQ(parse_whole_number("--seed", "18446744073709551615", 0, UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(parse_whole_number("--k", "007", 0, 10), 7u);
}

// CLI11 read "-5" as 2^64 - 5 and saturated 10^23 (issue 11).
TEST(WholeNumberOption, RefusesSignsOverflowAndJunkNamingTheOption) {
  const std::string range = ": expected a whole number from 1 to 1000";
  EXPECT_EQ(error_of("-5", 1, 1000), "--samples '-5'" + range);
  EXPECT_EQ(error_of("0", 1, 1000), "--samples '0'" + range);
  EXPECT_EQ(error_of("1001", 1, 1000), "--samples '1001'" + range);
  EXPECT_EQ(error_of("+5", 1, 1000), "--samples '+5'" + range);
  EXPECT_EQ(error_of("5 ", 1, 1000), "--samples '5 '" + range);
  EXPECT_EQ(error_of("0x10", 1, 1000), "--samples '0x10'" + range);
  EXPECT_EQ(error_of("1e3", 1, 1000), "--samples '1e3'" + range);
  EXPECT_EQ(error_of("", 1, 1000), "--samples ''" + range);
  EXPECT_EQ(error_of("18446744073709551616", 0, UINT64_MAX),
            "--samples '18446744073709551616': expected a whole number from 0 to 18446744073709551615");
  EXPECT_EQ(error_of("99999999999999999999999", 0, UINT64_MAX),
            "--samples '99999999999999999999999': expected a whole number from 0 to 18446744073709551615");
}

// --shard 0/-4 was shard 0 of 2^64 - 4 (0 cases, exit 0); ' 1/4' was accepted.
TEST(ShardOption, IsTwoWholeNumbersWithIndexBelowCount) {
  const Shard s = parse_shard("--shard", "3/4");
  EXPECT_EQ(s.index, 3u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(parse_shard("--shard", "0/18446744073709551615").count, UINT64_MAX);
  for (const char* bad :
       {"0/-4", " 1/4", "1/4 ", "4/4", "5/4", "0/0", "-1/4", "1", "1/", "/4", "1//4", "0x1/4", "1/4/5"}) {
    try {
      parse_shard("--shard", bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const OptionError& e) {
      EXPECT_EQ(std::string(e.what()), "--shard '" + std::string(bad) + "': expected i/n with 0 <= i < n, e.g. 0/4");
    }
  }
  try {
    parse_shard("--shard", "\x1b[2J/4");
    ADD_FAILURE() << "an escape sequence accepted";
  } catch (const OptionError& e) {
    EXPECT_EQ(std::string(e.what()), "--shard '\\x1b[2J/4': expected i/n with 0 <= i < n, e.g. 0/4");
  }
}

TEST(PathOption, EmptyIsRefusedNotReadAsStdin) {
  EXPECT_NO_THROW(check_path_option("--in", "-", "stdin"));
  EXPECT_NO_THROW(check_path_option("--in", "x.txt", "stdin"));
  try {
    check_path_option("--out", "", "stdout");
    ADD_FAILURE() << "no error";
  } catch (const OptionError& e) {
    EXPECT_STREQ(e.what(), "--out '': expected a file name, or - for stdout");
  }
}

TEST(NegativeNumbers, AreTheNumbersParseNumberReads) {
  for (const char* yes : {"-1", "-.5", "-1e3", "-0x1p3", "-inf", "-infinity", "-INF", "-nan", "-0"})
    EXPECT_TRUE(is_negative_number(yes)) << yes;
  for (const char* no : {"-", "--", "-h", "--to", "-rmin", "-e5", "-.", "1", "-1x", "--1"})
    EXPECT_FALSE(is_negative_number(no)) << no;
}

std::vector<std::string> unambiguous(const std::vector<std::string>& tokens) {
  return with_unambiguous_numbers(tokens, [](const std::string& t) { return t == "--to" || t == "--seed"; });
}

using Tokens = std::vector<std::string>;

// `convert --to e4m3 -.5` was taken for an option (issue 11).
TEST(NegativeNumbers, PositionalsMoveBehindOneDoubleDashInOrder) {
  EXPECT_EQ(unambiguous({"--to", "e4m3", "-.5", "1", "-infinity"}),
            (Tokens{"--to", "e4m3", "--", "-.5", "1", "-infinity"}));
  EXPECT_EQ(unambiguous({"1", "--to", "e4m3", "-2", "--flags", "3"}),
            (Tokens{"--to", "e4m3", "--flags", "--", "1", "-2", "3"}));
  EXPECT_EQ(unambiguous({"-1", "--", "-inf", "--to"}), (Tokens{"--", "-1", "-inf", "--to"}));
}

TEST(NegativeNumbers, OptionValuesAreJoinedAndNothingElseChanges) {
  EXPECT_EQ(unambiguous({"--seed", "-1", "--to", "e4m3"}), (Tokens{"--seed=-1", "--to", "e4m3"}));
  EXPECT_EQ(unambiguous({"--to", "e4m3", "1", "2"}), (Tokens{"--to", "e4m3", "1", "2"}));
  EXPECT_EQ(unambiguous({"--flags", "-h"}), (Tokens{"--flags", "-h"}));
  EXPECT_EQ(unambiguous({"--to=-1", "x"}), (Tokens{"--to=-1", "x"}));
  EXPECT_EQ(unambiguous({"--to"}), (Tokens{"--to"}));
}

std::string number_error(std::string_view text) {
  try {
    parse_input_number(text, "--bits");
  } catch (const ParseError& e) {
    return e.what();
  }
  return "no error";
}

// quantize called 0x1.8 a hex integer while convert read 1.5 (issue 11): one reader now.
TEST(InputNumber, HexFloatsAreNumbersHexIntegersAreRefusedWithAHint) {
  EXPECT_EQ(parse_input_number("0x1.8", "--bits").sig, parse_input_number("1.5", "--bits").sig);
  EXPECT_EQ(parse_input_number("-0x18p-4", "--bits").exp, parse_input_number("-1.5", "--bits").exp);
  EXPECT_EQ(number_error("0x3f800000"),
            "'0x3f800000' is a hex integer: write a hex float (0x1.8p3, 0x1.8) for a number, or pass --bits to read "
            "bit patterns");
  EXPECT_NE(number_error("-0X10").find("is a hex integer"), std::string::npos);
  EXPECT_NE(number_error("\x1b[2J").find("'\\x1b[2J' is not a number"), std::string::npos);
}

enum class Colour { red, green, blue };
constexpr NamedValue<Colour> kColours[] = {{"red", Colour::red}, {"green", Colour::green}, {"blue", Colour::blue}};

std::string named_value_error(std::string_view text) {
  try {
    parse_named_value("--colour", text, kColours);
  } catch (const OptionError& e) {
    return e.what();
  }
  return "no error";
}

// One table per named-choice option: the parse, the refusal and the name agree.
TEST(NamedValueOption, ReadsExactNamesAndRefusesNamingEveryChoice) {
  EXPECT_EQ(parse_named_value("--colour", "green", kColours), Colour::green);
  EXPECT_EQ(name_of(Colour::blue, kColours), "blue");
  EXPECT_EQ(named_value_error("Green"), "--colour 'Green': expected red, green or blue");
  EXPECT_EQ(named_value_error(""), "--colour '': expected red, green or blue");
  constexpr NamedValue<Colour> two[] = {{"red", Colour::red}, {"blue", Colour::blue}};
  try {
    parse_named_value("--colour", "\x1b", two);
    ADD_FAILURE() << "expected a refusal";
  } catch (const OptionError& e) {
    EXPECT_EQ(std::string(e.what()), "--colour '\\x1b': expected red or blue");
  }
}

// The one shortest-decimal writer: a float's own shortest form, or the double's.
TEST(CodeText, ShortestDecimalsAndTheNamesOfInfAndNan) {
  EXPECT_EQ(shortest_float_decimal(0.1f, NanSign::shown), "0.1");
  EXPECT_EQ(shortest_decimal(double(0.1f), NanSign::shown), "0.10000000149011612");
  EXPECT_EQ(shortest_decimal(-INFINITY, NanSign::hidden), "-inf");
  EXPECT_EQ(shortest_decimal(-NAN, NanSign::shown), "-nan");
  EXPECT_EQ(shortest_decimal(-NAN, NanSign::hidden), "nan");
  EXPECT_EQ(flags_hex(0x41), "41");
  EXPECT_EQ(input_position("x.txt", 3), "x.txt line 3");
  EXPECT_EQ(input_position("x.txt", 3, 7), "x.txt line 3, column 7");
}

}  // namespace
}  // namespace fpsim::cli
