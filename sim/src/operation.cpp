#include "fpsim/operation.hpp"

#include "fpsim/error.hpp"
#include "fpsim/quoted_text.hpp"

namespace fpsim {

namespace {

struct NamedOperation {
  std::string_view name;
  Operation op;
  bool canonical;
};

Operation arith_op(ArithOp a) {
  Operation o;
  o.kind = OpKind::arith;
  o.arith = a;
  return o;
}

Operation compare_op(Comparison c, bool signaling) {
  Operation o;
  o.kind = OpKind::compare;
  o.comparison = c;
  o.signaling = signaling;
  return o;
}

Operation min_max_op(MinMax m) {
  Operation o;
  o.kind = OpKind::min_max;
  o.min_max = m;
  return o;
}

const std::vector<NamedOperation>& table() {
  static const std::vector<NamedOperation> t = {
      {"add", arith_op(ArithOp::add), true},
      {"sub", arith_op(ArithOp::sub), true},
      {"mul", arith_op(ArithOp::mul), true},
      {"div", arith_op(ArithOp::div), true},
      {"fma", arith_op(ArithOp::fma), true},
      {"mulAdd", arith_op(ArithOp::fma), false},
      {"sqrt", arith_op(ArithOp::sqrt), true},
      {"eq", compare_op(Comparison::eq, false), true},
      {"eq_quiet", compare_op(Comparison::eq, false), false},
      {"eq_signaling", compare_op(Comparison::eq, true), true},
      {"lt", compare_op(Comparison::lt, true), true},
      {"lt_signaling", compare_op(Comparison::lt, true), false},
      {"lt_quiet", compare_op(Comparison::lt, false), true},
      {"le", compare_op(Comparison::le, true), true},
      {"le_signaling", compare_op(Comparison::le, true), false},
      {"le_quiet", compare_op(Comparison::le, false), true},
      {"unordered", compare_op(Comparison::unordered, false), true},
      {"unordered_quiet", compare_op(Comparison::unordered, false), false},
      {"unordered_signaling", compare_op(Comparison::unordered, true), true},
      {"minimum", min_max_op(MinMax::minimum), true},
      {"maximum", min_max_op(MinMax::maximum), true},
      {"minimum_number", min_max_op(MinMax::minimum_number), true},
      {"maximum_number", min_max_op(MinMax::maximum_number), true},
  };
  return t;
}

bool same(const Operation& a, const Operation& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case OpKind::arith:
      return a.arith == b.arith;
    case OpKind::compare:
      return a.comparison == b.comparison && a.signaling == b.signaling;
    case OpKind::min_max:
      return a.min_max == b.min_max;
  }
  return false;
}

}  // namespace

int Operation::arity() const { return kind == OpKind::arith ? fpsim::arity(arith) : 2; }

std::string Operation::name() const {
  for (const NamedOperation& n : table())
    if (n.canonical && same(n.op, *this)) return std::string(n.name);
  return "?";
}

Operation parse_operation(std::string_view name) {
  for (const NamedOperation& n : table())
    if (n.name == name) return n.op;
  std::string valid;
  for (const std::string& n : operation_names()) valid += (valid.empty() ? "" : " ") + n;
  throw OptionError("unknown operation " + quoted_text(name) + " (valid: " + valid + ")");
}

std::vector<std::string> operation_names() {
  std::vector<std::string> names;
  for (const NamedOperation& n : table())
    if (n.canonical) names.emplace_back(n.name);
  return names;
}

uint64_t evaluate(const Operation& op, const uint64_t* operands, const Format& f, const Format& out,
                  const RoundingSpec& rs, Flags& fl, uint64_t index) {
  switch (op.kind) {
    case OpKind::arith:
      return arith(op.arith, operands[0], op.arity() > 1 ? operands[1] : 0, op.arity() > 2 ? operands[2] : 0, f, out,
                   rs, fl, index);
    case OpKind::compare:
      return compare(op.comparison, op.signaling, operands[0], f, operands[1], f, rs, fl) ? 1 : 0;
    case OpKind::min_max:
      return min_max(op.min_max, operands[0], f, operands[1], f, out, rs, fl, index);
  }
  return 0;
}

}  // namespace fpsim
