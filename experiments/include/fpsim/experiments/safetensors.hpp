// The safetensors file format (huggingface/safetensors, README "Format"):
// what a run writes for its initial and final parameters and its data order,
// so that PyTorch (safetensors.torch.load_file) can replay it
// (docs/training.md, "Result files").
//
// Layout: 8 bytes N (unsigned, little-endian), N bytes of a JSON object
// header, then the data buffer. The header maps each tensor name to
// {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]} (byte
// offsets into the data buffer) and may hold "__metadata__": {string:
// string}. Tensor bytes are little-endian, row-major.
//
// What fpsim writes, exactly: the header is compact JSON (no spaces) with
// "__metadata__" first (left out when empty), then the tensors in name order
// (byte-wise), each with its keys in the order dtype, shape, data_offsets;
// the tensors' bytes follow in the same order, back to back; the header is
// padded with spaces (0x20) to a multiple of 8 bytes so that the data buffer
// starts 8-aligned.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fpsim::experiments {

// The element types of the format's README; the header names them in
// capitals ("BOOL", "U8", ..., "F8_E4M3", "BF16", "F32", ...).
enum class StoredDtype : uint8_t {
  boolean,
  u8,
  i8,
  f8_e5m2,
  f8_e4m3,
  i16,
  u16,
  f16,
  bf16,
  i32,
  u32,
  f32,
  f64,
  i64,
  u64
};
std::string_view stored_dtype_name(StoredDtype d);  // "F32"
size_t stored_dtype_size(StoredDtype d);            // bytes per element

struct StoredTensor {
  StoredDtype dtype = StoredDtype::f32;
  std::vector<uint64_t> shape;  // [] is a scalar (one element)
  std::string bytes;            // product(shape) * stored_dtype_size(dtype) bytes, little-endian
};

struct SafetensorsFile {
  std::map<std::string, StoredTensor> tensors;  // ordered by name, as written
  std::map<std::string, std::string> metadata;
};

// Tensors from values; throw ConfigError when the values do not fill the shape.
StoredTensor stored_tensor(std::vector<uint64_t> shape, std::span<const float> values);
StoredTensor stored_tensor(std::vector<uint64_t> shape, std::span<const double> values);
StoredTensor stored_tensor(std::vector<uint64_t> shape, std::span<const int32_t> values);
// F16 or BF16 from their 16-bit codes.
StoredTensor stored_tensor_16(StoredDtype dtype, std::vector<uint64_t> shape, std::span<const uint16_t> codes);

// The values of a tensor; throw DataError when its dtype is another one.
std::vector<float> values_f32(const StoredTensor& t);
std::vector<double> values_f64(const StoredTensor& t);
std::vector<int32_t> values_i32(const StoredTensor& t);

// The file's bytes, as described above. Throws ConfigError when a tensor's
// byte count does not match its shape and dtype or a name is
// "__metadata__".
std::string safetensors_bytes(const SafetensorsFile& file);
// Writes them to `path` atomically (fpsim::io::write_output_file).
void write_safetensors(const std::string& path, const SafetensorsFile& file);

// Parses and validates a whole file: N fits the file and is at most 100 MB
// (the safetensors crate's limit); the header is a JSON object whose first
// byte is '{' and which holds no duplicate names; each entry has exactly the
// keys dtype (a known name), shape (non-negative integers) and data_offsets
// (two non-negative integers, begin <= end) and end - begin = product(shape)
// x element size; sorted by offset the tensors tile the data buffer with no
// gap and no overlap, from 0 to its end; __metadata__, when present, maps
// strings to strings. Any violation throws DataError "NAME: invalid
// safetensors file: <what>".
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& name);
// Reads `path` (its stored bytes, never gunzipped) and parses it; IoError
// when it cannot be read.
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace fpsim::experiments
