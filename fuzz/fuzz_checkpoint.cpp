// fuzz_checkpoint: the checkpoint reader (docs/training.md, "Checkpoints"):
// experiments' parse_checkpoint on the bytes as a file named fuzz.ckpt, which
// runs the safetensors parser first.
//
// - Accepted: checkpoint_bytes of what was read parses again to the same
//   checkpoint, field by field and bit by bit (the writer loses nothing the
//   reader keeps), and writing that gives the same bytes again.
// - Every input runs twice: as it is, and (when it is a safetensors file)
//   with its data_sha256 made to match, to reach the fields behind the
//   checksum.
// - Refused: a DataError (no other exception), whose message is one line,
//   shorter than 2,000 bytes whatever the input's length, with every control
//   byte and invalid UTF-8 escaped.
#include <bit>
#include <cstring>
#include <string>
#include <string_view>

#include "fpsim/experiments/checkpoint.hpp"
#include "fpsim/experiments/errors.hpp"
#include "fpsim/experiments/safetensors.hpp"
#include "fpsim/experiments/sha256.hpp"
#include "fuzz_check.hpp"
#include "fuzz_targets.hpp"

namespace {

using fpsim_fuzz::fail;
using fpsim_fuzz::shown;
namespace ex = fpsim::experiments;

constexpr const char* kTarget = "checkpoint";

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_tensors(const ex::SafetensorsFile& a, const ex::SafetensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (auto i = a.tensors.begin(), j = b.tensors.begin(); i != a.tensors.end(); ++i, ++j)
    if (i->first != j->first || i->second.dtype != j->second.dtype || i->second.shape != j->second.shape ||
        i->second.bytes != j->second.bytes)
      return false;
  return true;
}

// The first field in which two checkpoints differ, or "".
std::string difference(const ex::RunCheckpoint& a, const ex::RunCheckpoint& b) {
  if (a.identity != b.identity) return "identity";
  if (a.steps_done != b.steps_done) return "steps_done";
  if (!same_bits(a.loop_seconds, b.loop_seconds)) return "loop_seconds";
  if (!same_bits(a.final_loss, b.final_loss)) return "final_loss";
  if (!same_bits(a.last_eval, b.last_eval) && !(a.last_eval != a.last_eval && b.last_eval != b.last_eval))
    return "last_eval";
  if (!same_bits(a.loss_scale, b.loss_scale)) return "loss_scale";
  if (a.growth_tracker != b.growth_tracker) return "growth_tracker";
  if (a.metrics_csv != b.metrics_csv) return "metrics text";
  if (a.quant_stats_csv != b.quant_stats_csv) return "quant_stats text";
  if (a.delayed.size() != b.delayed.size()) return "delayed states";
  for (size_t i = 0; i < a.delayed.size(); ++i) {
    const ex::DelayedStateRecord &x = a.delayed[i], &y = b.delayed[i];
    if (x.layer != y.layer || x.tensor != y.tensor || !same_bits(x.multiplier, y.multiplier) ||
        x.history.size() != y.history.size() ||
        (!x.history.empty() && std::memcmp(x.history.data(), y.history.data(), x.history.size() * sizeof(float))))
      return "delayed state " + std::to_string(i);
  }
  if (!same_tensors(a.state, b.state)) return "state tensors";
  return "";
}

void check_accepted(const ex::RunCheckpoint& c, std::string_view input) {
  const std::string first = ex::checkpoint_bytes(c);
  ex::RunCheckpoint again;
  try {
    again = ex::parse_checkpoint(first, "rewritten.ckpt");
  } catch (const fpsim::Error& e) {
    fail(kTarget,
         "the rewritten checkpoint is refused (" + std::string(e.what()) + ") from input '" + shown(input) + "'");
  }
  const std::string diff = difference(c, again);
  if (!diff.empty())
    fail(kTarget, "the rewritten checkpoint reads back with another " + diff + ": '" + shown(input) + "'");
  if (ex::checkpoint_bytes(again) != first)
    fail(kTarget, "writing a checkpoint twice gives other bytes: '" + shown(input) + "'");
}

// The input with its data_sha256 made to match its data, when it is a
// safetensors file: what lets the fuzzer reach the fields behind the checksum,
// which a mutated file would otherwise almost never pass.
std::string with_checksum_fixed(std::string_view input) {
  ex::SafetensorsFile f;
  try {
    f = ex::parse_safetensors(input, "fuzz.ckpt");
  } catch (const ex::DataError&) {
    return "";
  }
  std::string all;
  for (const auto& [name, t] : f.tensors) all += t.bytes;
  f.metadata["data_sha256"] = ex::sha256_hex(all);
  return ex::safetensors_bytes(f);
}

void check(std::string_view input) {
  try {
    check_accepted(ex::parse_checkpoint(input, "fuzz.ckpt"), input);
  } catch (const ex::DataError& e) {
    fpsim_fuzz::check_message(kTarget, e.what(), input);
  }
}

}  // namespace

int fuzz_checkpoint(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    check(input);
    const std::string fixed = with_checksum_fixed(input);
    if (!fixed.empty()) check(fixed);
  } catch (...) {
    fpsim_fuzz::fail_on_unexpected(kTarget, input);
  }
  return 0;
}
