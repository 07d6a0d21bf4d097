// The Python extension `fpsim._fpsim` (docs/python.md): the library's
// conversions, quantizers and tensor-core model on numpy arrays. Every
// result is computed by the same C++ functions the `fpsim` command calls:
// float32 conversions and quantization by the bulk SIMD paths (sim/bulk),
// other inputs by the scalar core. This file only moves arrays in and out,
// releases the GIL around the work and turns the library's exceptions into
// Python ones; the Python layer (python/fpsim/__init__.py) adds keyword
// defaults and ml_dtypes interop.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "fpsim/bulk/convert_bulk.hpp"
#include "fpsim/bulk/mma_gemm_bulk.hpp"
#include "fpsim/bulk/quantize_bulk.hpp"
#include "fpsim/convert.hpp"
#include "fpsim/error.hpp"
#include "fpsim/format_table.hpp"
#include "fpsim/mma.hpp"
#include "fpsim/quantize.hpp"
#include "mma_error_command.hpp"
#include "quantize_command.hpp"

namespace py = pybind11;

namespace {

using fpsim::Flags;
using fpsim::Format;
using fpsim::RoundingSpec;

// Arrays come in as numpy arrays of exactly this dtype, C-contiguous: a
// contiguous array of the right dtype is used in place, anything else is
// copied once by numpy (non-contiguous views, other byte orders).
template <class T>
using InArray = py::array_t<T, py::array::c_style>;

std::vector<py::ssize_t> shape_of(const py::array& a) { return {a.shape(), a.shape() + a.ndim()}; }

py::dict flags_dict(const Flags& f) {
  py::dict d;
  d["inexact"] = f.test(Flags::inexact);
  d["underflow"] = f.test(Flags::underflow);
  d["overflow"] = f.test(Flags::overflow);
  d["infinite"] = f.test(Flags::infinite);
  d["invalid"] = f.test(Flags::invalid);
  d["saturated"] = f.test(Flags::saturated);
  d["flushed"] = f.test(Flags::flushed);
  return d;
}

RoundingSpec rounding_spec(const std::string& rounding, const std::string& overflow, const std::string& tininess,
                           bool ftz, bool daz, uint32_t seed, uint32_t stream, uint32_t step) {
  RoundingSpec rs;
  fpsim::parse_rounding(rounding, rs);
  rs.overflow = fpsim::parse_overflow(overflow);
  rs.tininess = fpsim::parse_tininess(tininess);
  rs.ftz = ftz;
  rs.daz = daz;
  if ((seed != 0 || stream != 0 || step != 0) && rs.rounding != fpsim::Rounding::sr)
    throw fpsim::OptionError("seed, stream and step key stochastic rounding: they need rounding='sr' or 'sr<R>'");
  rs.seed = seed;
  rs.stream = stream;
  rs.step = step;
  return rs;
}

// The narrowest unsigned dtype that holds a code of f (tf32: its 19-bit code,
// not the 32-bit container).
int code_bytes(const Format& f) { return f.value_bits() <= 8 ? 1 : f.value_bits() <= 16 ? 2 : f.value_bits() <= 32 ? 4 : 8; }

template <class Code, class In>
void convert_scalar(const In* x, size_t n, void* out, const Format& to, const RoundingSpec& rs, uint64_t first,
                    Flags& flags) {
  Code* o = static_cast<Code*>(out);
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<In, float>)
      o[i] = Code(fpsim::from_float(x[i], to, rs, flags, first + i));
    else
      o[i] = Code(fpsim::from_double(x[i], to, rs, flags, first + i));
  }
}

template <class In>
void convert_scalar_any(int bytes, const In* x, size_t n, void* out, const Format& to, const RoundingSpec& rs,
                        uint64_t first, Flags& flags) {
  switch (bytes) {
    case 1: return convert_scalar<uint8_t>(x, n, out, to, rs, first, flags);
    case 2: return convert_scalar<uint16_t>(x, n, out, to, rs, first, flags);
    case 4: return convert_scalar<uint32_t>(x, n, out, to, rs, first, flags);
    default: return convert_scalar<uint64_t>(x, n, out, to, rs, first, flags);
  }
}

py::dtype code_dtype(int bytes) {
  switch (bytes) {
    case 1: return py::dtype::of<uint8_t>();
    case 2: return py::dtype::of<uint16_t>();
    case 4: return py::dtype::of<uint32_t>();
    default: return py::dtype::of<uint64_t>();
  }
}

// The array the codes go to: a new one, or the caller's `out` when it has the
// codes' dtype and x's shape and is C-contiguous and writeable (numpy's out=).
py::array code_array(const py::object& out, int bytes, const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) return py::array(code_dtype(bytes), shape);
  if (!py::isinstance<py::array>(out)) throw py::type_error("fpsim.convert: out must be a numpy array");
  py::array o = out.cast<py::array>();
  if (!o.dtype().is(code_dtype(bytes)))
    throw py::type_error("fpsim.convert: out has dtype " + std::string(py::str(o.dtype())) + ", the codes need " +
                         std::string(py::str(code_dtype(bytes))));
  if (shape_of(o) != shape) throw py::value_error("fpsim.convert: out's shape differs from x's");
  if (!(o.flags() & py::array::c_style) || !o.writeable())
    throw py::value_error("fpsim.convert: out must be C-contiguous and writeable");
  return o;
}

// x (float32 or float64, any shape) to codes of `to`: float32 into 8- and
// 16-bit float formats through the bulk SIMD path, everything else element by
// element through the scalar core (bit-identical, tests/sim/convert_bulk_test.cpp).
// want_flags: the flags cost the bulk kernels their lean variant (about 2-4x
// slower), so they are only gathered when asked for.
py::tuple convert(const py::array& x_in, const std::string& to_name, const RoundingSpec& rs, uint64_t first_index,
                  bool want_flags, const py::object& out_in) {
  const Format to = fpsim::parse_format(to_name);
  const auto kind = x_in.dtype().kind();
  const auto itemsize = x_in.dtype().itemsize();
  if (kind != 'f' || (itemsize != 4 && itemsize != 8))
    throw py::type_error("fpsim.convert: expected a float32 or float64 array, got dtype " +
                         std::string(py::str(x_in.dtype())));
  const int bytes = code_bytes(to);
  Flags flags;
  if (itemsize == 4) {
    const auto x = InArray<float>::ensure(x_in);
    const size_t n = size_t(x.size());
    py::array out = code_array(out_in, bytes, shape_of(x));
    void* o = out.mutable_data();
    {
      py::gil_scoped_release release;
      const std::span<const float> in(x.data(), n);
      Flags* fl = want_flags ? &flags : nullptr;
      if (bytes == 1 && !to.is_integer())
        fpsim::bulk::convert_from_f32(in, to, rs, std::span<uint8_t>(static_cast<uint8_t*>(o), n), first_index, fl);
      else if (bytes == 2)
        fpsim::bulk::convert_from_f32(in, to, rs, std::span<uint16_t>(static_cast<uint16_t*>(o), n), first_index, fl);
      else
        convert_scalar_any(bytes, x.data(), n, o, to, rs, first_index, flags);
    }
    return py::make_tuple(out, flags_dict(flags));
  }
  const auto x = InArray<double>::ensure(x_in);
  py::array out = code_array(out_in, bytes, shape_of(x));
  void* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    convert_scalar_any(bytes, x.data(), size_t(x.size()), o, to, rs, first_index, flags);
  }
  return py::make_tuple(out, flags_dict(flags));
}

template <class Code>
py::array decode_codes(const py::array& codes_in, const Format& f, bool as_double) {
  const auto codes = InArray<Code>::ensure(codes_in);
  const auto shape = shape_of(codes);
  const size_t n = size_t(codes.size());
  const Code* c = codes.data();
  for (size_t i = 0; i < n; ++i)
    if (!f.valid_code(c[i]))
      throw fpsim::OptionError("fpsim.decode: code " + std::to_string(uint64_t(c[i])) + " at flat index " +
                               std::to_string(i) + " is not a code of " + f.name);
  if (as_double) {
    py::array_t<double> out(shape);
    double* o = out.mutable_data();
    py::gil_scoped_release release;
    for (size_t i = 0; i < n; ++i) o[i] = fpsim::to_double(c[i], f);
    return out;
  }
  py::array_t<float> out(shape);
  float* o = out.mutable_data();
  py::gil_scoped_release release;
  if constexpr (sizeof(Code) <= 2) {
    if (f.value_bits() <= 16 && !f.is_integer()) {
      fpsim::bulk::convert_to_f32(std::span<const Code>(c, n), f, std::span<float>(o, n));
      return out;
    }
  }
  // Values of formats wider than fp32 round (rne) into float32.
  for (size_t i = 0; i < n; ++i) {
    Flags ignored;
    o[i] = fpsim::to_float(c[i], f, RoundingSpec{}, ignored);
  }
  return out;
}

py::array decode(const py::array& codes, const std::string& fmt_name, bool as_double) {
  const Format f = fpsim::parse_format(fmt_name);
  if (codes.dtype().kind() != 'u' && codes.dtype().kind() != 'i')
    throw py::type_error("fpsim.decode: expected an unsigned integer array of codes, got dtype " +
                         std::string(py::str(codes.dtype())));
  switch (codes.dtype().itemsize()) {
    case 1: return decode_codes<uint8_t>(codes, f, as_double);
    case 2: return decode_codes<uint16_t>(codes, f, as_double);
    case 4: return decode_codes<uint32_t>(codes, f, as_double);
    default: return decode_codes<uint64_t>(codes, f, as_double);
  }
}

// A 1-D array is one row; a 2-D array is rows x cols.
fpsim::TensorShape tensor_shape(const py::array& x, const char* what) {
  if (x.ndim() == 1) return {1, size_t(x.shape(0))};
  if (x.ndim() == 2) return {size_t(x.shape(0)), size_t(x.shape(1))};
  throw py::value_error(std::string(what) + ": expected a 1-D or 2-D array, got " + std::to_string(x.ndim()) + " dimensions");
}

InArray<float> float32_array(const py::array& x, const char* what) {
  if (x.dtype().kind() != 'f' || x.dtype().itemsize() != 4)
    throw py::type_error(std::string(what) + ": expected a float32 array, got dtype " + std::string(py::str(x.dtype())) +
                         " (convert with .astype(numpy.float32) first: the rounding to float32 is yours to choose)");
  return InArray<float>::ensure(x);
}

fpsim::QuantizedTensor quantize(const py::array& x_in, const fpsim::QuantScheme& scheme) {
  const auto x = float32_array(x_in, "fpsim.quantize");
  const fpsim::TensorShape shape = tensor_shape(x, "fpsim.quantize");
  py::gil_scoped_release release;
  return fpsim::bulk::quantize(std::span<const float>(x.data(), size_t(x.size())), shape, scheme);
}

// The scheme with quantize()'s keyword overrides, through the `fpsim
// quantize` command's own option logic (one set of rules and messages).
fpsim::QuantScheme quantize_scheme(const std::string& name, const py::object& block,
                                   std::optional<std::string> e8m0_rule, std::optional<bool> pow2_scales,
                                   const py::object& amax_epsilon, std::optional<std::string> scale_arith,
                                   std::optional<std::string> rounding, std::optional<std::string> overflow,
                                   std::optional<uint32_t> seed, std::optional<uint32_t> stream,
                                   std::optional<uint32_t> step, bool require_full_blocks, bool hadamard,
                                   std::optional<uint32_t> hadamard_seed) {
  fpsim::cli::QuantizeOptions o;
  o.scheme = name;
  if (!block.is_none()) {
    const auto b = block.cast<std::pair<int64_t, int64_t>>();
    o.block = std::to_string(b.first) + "x" + std::to_string(b.second);
  }
  o.e8m0_rule = std::move(e8m0_rule);
  o.pow2_scales = pow2_scales;
  if (!amax_epsilon.is_none()) o.amax_epsilon = std::string(py::str(py::float_(amax_epsilon).attr("hex")()));
  o.scale_arith = std::move(scale_arith);
  o.rounding = std::move(rounding);
  o.overflow = std::move(overflow);
  o.seed = seed;
  o.stream = stream;
  o.step = step;
  o.require_full_blocks = require_full_blocks;
  o.hadamard = hadamard;
  o.hadamard_seed = hadamard_seed;
  return fpsim::cli::quantize_scheme(o);
}

py::array_t<float> dequantize(const fpsim::QuantizedTensor& q) {
  std::vector<py::ssize_t> shape{py::ssize_t(q.shape.rows), py::ssize_t(q.shape.cols)};
  py::array_t<float> out(shape);
  {
    py::gil_scoped_release release;
    fpsim::bulk::dequantize_into(q, std::span<float>(out.mutable_data(), q.shape.size()));
  }
  return out;
}

py::dict stats_dict(const fpsim::QuantStats& s) {
  py::dict d;
  d["amax"] = s.amax;
  d["elements"] = s.elements;
  d["nan_inputs"] = s.nan_inputs;
  d["inf_inputs"] = s.inf_inputs;
  d["underflows"] = s.underflows;
  d["saturated"] = s.saturated;
  d["nan_scale_blocks"] = s.nan_scale_blocks;
  d["mse"] = s.mse;
  d["sqnr_db"] = s.sqnr_db;
  return d;
}

template <class T>
py::array_t<T> array_2d(const std::vector<T>& v, size_t rows, size_t cols) {
  py::array_t<T> out(std::vector<py::ssize_t>{py::ssize_t(rows), py::ssize_t(cols)});
  if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), v.size() * sizeof(T));
  return out;
}

py::array_t<float> mma(const py::array& a_in, const py::array& b_in, const py::object& c_in, const std::string& model_name) {
  const fpsim::MmaModel model = fpsim::mma_preset(model_name);
  const auto a = float32_array(a_in, "fpsim.mma (a)");
  const auto b = float32_array(b_in, "fpsim.mma (b)");
  if (a.ndim() != 2 || b.ndim() != 2) throw py::value_error("fpsim.mma: a and b must be 2-D (M x K and K x N)");
  const py::ssize_t M = a.shape(0), K = a.shape(1), N = b.shape(1);
  if (b.shape(0) != K)
    throw py::value_error("fpsim.mma: a is " + std::to_string(M) + "x" + std::to_string(K) + " but b is " +
                          std::to_string(b.shape(0)) + "x" + std::to_string(N));
  if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) throw py::value_error("fpsim.mma: dimensions too large");
  InArray<float> c;
  if (!c_in.is_none()) {
    c = float32_array(py::array::ensure(c_in), "fpsim.mma (c)");
    if (c.ndim() != 2 || c.shape(0) != M || c.shape(1) != N)
      throw py::value_error("fpsim.mma: c must be " + std::to_string(M) + "x" + std::to_string(N));
  }
  py::array_t<float> d(std::vector<py::ssize_t>{M, N});
  {
    py::gil_scoped_release release;
    fpsim::bulk::mma_gemm(model, int(M), int(N), int(K), std::span<const float>(a.data(), size_t(a.size())),
                          std::span<const float>(b.data(), size_t(b.size())),
                          c_in.is_none() ? std::span<const float>() : std::span<const float>(c.data(), size_t(c.size())),
                          std::span<float>(d.mutable_data(), size_t(M * N)));
  }
  return d;
}

py::dict error_stats_dict(const fpsim::cli::ErrorStats& s) {
  py::dict d;
  d["max"] = s.max;
  d["median"] = s.median;
  d["mean"] = s.mean;
  d["p99"] = s.p99;
  return d;
}

py::dict mma_error(const std::string& model, int64_t k, const py::object& promote, const std::string& dist,
                   int64_t trials, uint64_t seed) {
  fpsim::cli::MmaErrorOptions o;
  o.model = model;
  o.k = k;
  if (!promote.is_none()) o.promote = promote.cast<int64_t>();
  o.dist = dist;
  o.trials = trials;
  o.seed = seed;
  fpsim::cli::MmaErrorReport r;
  {
    py::gil_scoped_release release;
    r = fpsim::cli::mma_error_report(o);
  }
  py::dict d;
  d["model"] = r.model.name;
  d["promotion_interval"] = r.model.promotion_interval;
  d["k"] = r.k;
  d["trials"] = r.trials;
  d["seed"] = r.seed;
  d["parameters"] = fpsim::describe_mma_model(r.model);
  d["relative_error"] = error_stats_dict(r.relative);
  d["error_vs_abs_sum"] = error_stats_dict(r.vs_abs_sum);
  d["exact_results"] = r.exact_results;
  return d;
}

py::list formats() {
  py::list out;
  for (const Format& f : fpsim::builtin_formats()) {
    const fpsim::FormatProperties p = fpsim::describe(f);
    py::dict d;
    d["name"] = std::string(f.name);
    d["bits"] = f.bits;
    d["exp_bits"] = f.exp_bits;
    d["man_bits"] = f.man_bits;
    d["bias"] = f.bias;
    d["kind"] = p.kind;
    d["signed"] = f.has_sign;
    d["max_finite"] = p.max_finite;
    d["min_normal"] = p.min_normal;
    d["min_subnormal"] = p.min_subnormal;
    d["epsilon"] = p.epsilon;
    d["has_inf"] = p.has_inf;
    d["has_nan"] = p.has_nan;
    std::vector<std::string> aliases;
    for (std::string_view a : fpsim::format_aliases(f)) aliases.emplace_back(a);
    d["aliases"] = aliases;
    out.append(d);
  }
  return out;
}

// Seconds one bulk conversion of x takes in C++ alone (best of `repeats`),
// for bench/python_convert_bench.py's ratio: the same call without Python.
double time_bulk_convert(const py::array& x_in, const std::string& to_name, const RoundingSpec& rs, int repeats) {
  const auto x = float32_array(x_in, "time_bulk_convert");
  const Format to = fpsim::parse_format(to_name);
  const size_t n = size_t(x.size());
  std::vector<uint8_t> out8(code_bytes(to) == 1 ? n : 0);
  std::vector<uint16_t> out16(code_bytes(to) == 2 ? n : 0);
  double best = 1e300;
  py::gil_scoped_release release;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (code_bytes(to) == 1)
      fpsim::bulk::convert_from_f32(std::span<const float>(x.data(), n), to, rs, out8);
    else
      fpsim::bulk::convert_from_f32(std::span<const float>(x.data(), n), to, rs, out16);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

PYBIND11_MODULE(_fpsim, m) {
  m.doc() = "fpsim's C++ core: bit-exact low-precision formats, quantizers and tensor-core models (docs/python.md)";
  py::register_exception<fpsim::Error>(m, "Error", PyExc_ValueError);

  py::class_<RoundingSpec>(m, "RoundingSpec")
      .def(py::init(&rounding_spec), py::arg("rounding") = "rne", py::arg("overflow") = "ieee",
           py::arg("tininess") = "after", py::arg("ftz") = false, py::arg("daz") = false, py::arg("seed") = 0,
           py::arg("stream") = 0, py::arg("step") = 0)
      .def_property_readonly("rounding", [](const RoundingSpec& r) { return fpsim::rounding_name(r); });

  py::class_<fpsim::QuantScheme>(m, "QuantScheme")
      .def(py::init([](const std::string& name) { return fpsim::parse_quant_scheme(name); }))
      .def_property_readonly("element", [](const fpsim::QuantScheme& s) { return std::string(s.element.name); })
      .def_property_readonly("kind", [](const fpsim::QuantScheme& s) { return std::string(fpsim::scale_kind_name(s.kind)); })
      .def_property(
          "block", [](const fpsim::QuantScheme& s) { return py::make_tuple(s.block.rows, s.block.cols); },
          [](fpsim::QuantScheme& s, std::pair<size_t, size_t> b) {
            if (b.first == 0 || b.second == 0) throw fpsim::OptionError("block: both sides must be >= 1");
            s.block = {b.first, b.second};
          })
      .def_property(
          "e8m0_rule", [](const fpsim::QuantScheme& s) { return std::string(fpsim::e8m0_rule_name(s.e8m0_rule)); },
          [](fpsim::QuantScheme& s, const std::string& v) { s.e8m0_rule = fpsim::parse_e8m0_rule(v); })
      .def_property(
          "scale_arith", [](const fpsim::QuantScheme& s) { return std::string(fpsim::scale_arith_name(s.arith)); },
          [](fpsim::QuantScheme& s, const std::string& v) { s.arith = fpsim::parse_scale_arith(v); })
      .def_readwrite("pow2_scales", &fpsim::QuantScheme::pow2_scales)
      .def_readwrite("amax_epsilon", &fpsim::QuantScheme::amax_epsilon)
      .def_readwrite("require_full_blocks", &fpsim::QuantScheme::require_full_blocks)
      .def_readwrite("rounding", &fpsim::QuantScheme::rounding)
      .def_readwrite("hadamard", &fpsim::QuantScheme::hadamard)
      .def_readwrite("hadamard_seed", &fpsim::QuantScheme::hadamard_seed);

  py::class_<fpsim::QuantizedTensor>(m, "QuantizedTensor")
      .def_property_readonly("shape", [](const fpsim::QuantizedTensor& q) { return py::make_tuple(q.shape.rows, q.shape.cols); })
      .def_property_readonly("elements", [](const fpsim::QuantizedTensor& q) { return array_2d(q.elements, q.shape.rows, q.shape.cols); })
      .def_property_readonly("element_format", [](const fpsim::QuantizedTensor& q) { return std::string(q.scheme.element.name); })
      .def_property_readonly("scale_format", [](const fpsim::QuantizedTensor& q) { return std::string(q.scale_format.name); })
      .def_property_readonly("scale_codes", [](const fpsim::QuantizedTensor& q) { return array_2d(q.scales, q.scale_grid.rows, q.scale_grid.cols); })
      .def_property_readonly("scales", [](const fpsim::QuantizedTensor& q) {
        std::vector<double> v(q.scales.size());
        for (size_t i = 0; i < v.size(); ++i) v[i] = fpsim::to_double(q.scales[i], q.scale_format);
        return array_2d(v, q.scale_grid.rows, q.scale_grid.cols);
      })
      .def_property_readonly("multipliers", [](const fpsim::QuantizedTensor& q) {
        std::vector<float> v(q.multipliers.size());
        for (size_t i = 0; i < v.size(); ++i) v[i] = std::bit_cast<float>(q.multipliers[i]);
        return array_2d(v, v.empty() ? 0 : q.scale_grid.rows, v.empty() ? 0 : q.scale_grid.cols);
      })
      .def_readonly("tensor_scale", &fpsim::QuantizedTensor::tensor_scale)
      // Row-scaled nvfp4: one decode-side scale per row, used in place of tensor_scale (docs/quantization.md,
      // "nvfp4 row-scaled"); empty for every other scheme.
      .def_property_readonly("row_tensor_scales", [](const fpsim::QuantizedTensor& q) {
        py::array_t<float> a(py::ssize_t(q.row_tensor_scales.size()));
        std::copy(q.row_tensor_scales.begin(), q.row_tensor_scales.end(), a.mutable_data());
        return a;
      })
      .def_property_readonly("stats", [](const fpsim::QuantizedTensor& q) { return stats_dict(q.stats); });

  m.def("_formats", &formats);
  m.def("_convert", &convert, py::arg("x"), py::arg("to"), py::arg("spec"), py::arg("first_index"),
        py::arg("want_flags"), py::arg("out"));
  m.def("_decode", &decode, py::arg("codes"), py::arg("fmt"), py::arg("as_double"));
  m.def("_quantize", &quantize, py::arg("x"), py::arg("scheme"));
  m.def("_quantize_scheme", &quantize_scheme, py::arg("scheme"), py::arg("block"), py::arg("e8m0_rule"),
        py::arg("pow2_scales"), py::arg("amax_epsilon"), py::arg("scale_arith"), py::arg("rounding"),
        py::arg("overflow"), py::arg("seed"), py::arg("stream"), py::arg("step"), py::arg("require_full_blocks"),
        py::arg("hadamard"), py::arg("hadamard_seed"));
  m.def("_dequantize", &dequantize, py::arg("q"));
  m.def("_quant_scheme_names", &fpsim::quant_scheme_names);
  m.def("_mma", &mma, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("model"));
  m.def("_mma_models", [] {
    std::vector<std::string> names;
    for (const fpsim::MmaModel& model : fpsim::mma_presets()) names.push_back(model.name);
    return names;
  });
  m.def("_mma_error", &mma_error, py::arg("model"), py::arg("k"), py::arg("promote"), py::arg("dist"),
        py::arg("trials"), py::arg("seed"));
  m.def("_time_bulk_convert", &time_bulk_convert, py::arg("x"), py::arg("to"), py::arg("spec"), py::arg("repeats"));
  m.def("_simd_target", [] { return std::string(fpsim::bulk::simd_target_name()); });
}
