// C ABI over libtorch; see shim.h for the conventions.
//
// Only API present in both libtorch 1.13 and 2.x is used. Argument layout per
// op (in = tensor inputs, ia = int args, da = double args) is documented at
// each case of run_op; the Go package is the only caller.
#include "shim.h"

#include <torch/torch.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

#include <dlfcn.h>
#include <malloc.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct dt_tensor_s {
  torch::Tensor t;
};
struct dt_gen_s {
  at::Generator g;
};

namespace {

char *dup_msg(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// guard turns every exception into an error string so none crosses the C ABI.
template <typename F>
char *guard(F &&f) {
  try {
    f();
    return nullptr;
  } catch (const c10::Error &e) {
    return dup_msg(e.what_without_backtrace());
  } catch (const std::exception &e) {
    return dup_msg(e.what());
  } catch (...) {
    return dup_msg("unknown C++ exception in torch shim");
  }
}

torch::ScalarType to_scalar(int dt) {
  switch (dt) {
    case DT_FLOAT32: return torch::kFloat32;
    case DT_FLOAT64: return torch::kFloat64;
    case DT_INT64: return torch::kInt64;
    case DT_BOOL: return torch::kBool;
    case DT_INT32: return torch::kInt32;
    case DT_UINT8: return torch::kUInt8;
    case DT_BFLOAT16: return torch::kBFloat16;
  }
  throw std::invalid_argument("unsupported dtype code " + std::to_string(dt));
}

int from_scalar(torch::ScalarType s) {
  switch (s) {
    case torch::kFloat32: return DT_FLOAT32;
    case torch::kFloat64: return DT_FLOAT64;
    case torch::kInt64: return DT_INT64;
    case torch::kBool: return DT_BOOL;
    case torch::kInt32: return DT_INT32;
    case torch::kUInt8: return DT_UINT8;
    case torch::kBFloat16: return DT_BFLOAT16;
    default: return DT_OTHER;
  }
}

torch::Device to_device(int64_t type, int64_t index) {
  if (type == DT_CPU) return torch::Device(torch::kCPU);
  if (type == DT_CUDA) return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  throw std::invalid_argument("unsupported device type " + std::to_string(type));
}

at::MemoryFormat memory_format(int64_t f) {
  if (f == DT_FORMAT_CONTIGUOUS) return at::MemoryFormat::Contiguous;
  if (f == DT_FORMAT_CHANNELS_LAST) return at::MemoryFormat::ChannelsLast;
  throw std::invalid_argument("torch shim: unknown memory format " + std::to_string(f));
}

// Autocast turns bf16 autocast on for CPU and CUDA while it lives, cache off, and restores
// what was set before. PyTorch 2.4 replaced the per-device setters with ones taking the
// device type (the old ones are deprecated).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
struct AutocastDevice {
  c10::DeviceType type;
  bool on;
  at::ScalarType dtype;
  explicit AutocastDevice(c10::DeviceType t)
      : type(t), on(at::autocast::is_autocast_enabled(t)), dtype(at::autocast::get_autocast_dtype(t)) {}
  void set(bool enabled, at::ScalarType dt) const {
    at::autocast::set_autocast_enabled(type, enabled);
    at::autocast::set_autocast_dtype(type, dt);
  }
  void restore() const { set(on, dtype); }
};
#define DT_AUTOCAST_CPU AutocastDevice(c10::DeviceType::CPU)
#define DT_AUTOCAST_CUDA AutocastDevice(c10::DeviceType::CUDA)
#else
struct AutocastDevice {
  bool cuda;
  bool on;
  at::ScalarType dtype;
  explicit AutocastDevice(bool is_cuda)
      : cuda(is_cuda),
        on(is_cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled()),
        dtype(is_cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype()) {}
  void set(bool enabled, at::ScalarType dt) const {
    if (cuda) {
      at::autocast::set_enabled(enabled);
      at::autocast::set_autocast_gpu_dtype(dt);
    } else {
      at::autocast::set_cpu_enabled(enabled);
      at::autocast::set_autocast_cpu_dtype(dt);
    }
  }
  void restore() const { set(on, dtype); }
};
#define DT_AUTOCAST_CPU AutocastDevice(false)
#define DT_AUTOCAST_CUDA AutocastDevice(true)
#endif

struct Autocast {
  bool active;
  AutocastDevice cpu = DT_AUTOCAST_CPU, cuda = DT_AUTOCAST_CUDA;
  bool cache = at::autocast::is_autocast_cache_enabled();
  explicit Autocast(bool on) : active(on) {
    if (!active) return;
    at::autocast::set_autocast_cache_enabled(false);
    cpu.set(true, at::kBFloat16);
    cuda.set(true, at::kBFloat16);
  }
  ~Autocast() {
    if (!active) return;
    cpu.restore();
    cuda.restore();
    at::autocast::set_autocast_cache_enabled(cache);
  }
  Autocast(const Autocast &) = delete;
  Autocast &operator=(const Autocast &) = delete;
};

dt_tensor wrap(torch::Tensor t) { return new dt_tensor_s{std::move(t)}; }

// Args gives bounds-checked access to an op's arguments.
struct Args {
  const dt_tensor *in;
  int nin;
  const int64_t *ia;
  int nia;
  const double *da;
  int nda;
  dt_gen gen;
  bool bf16 = false;  // bf16 autocast is on for this op

  void need(int tensors, int ints, int doubles) const {
    if (nin < tensors || nia < ints || nda < doubles)
      throw std::invalid_argument("torch shim: too few op arguments");
  }
  const torch::Tensor &t(int i) const {
    if (i >= nin || in[i] == nullptr) throw std::invalid_argument("torch shim: missing tensor input");
    return in[i]->t;
  }
  // opt returns an undefined tensor for an absent optional input.
  torch::Tensor opt(int i) const {
    if (i >= nin || in[i] == nullptr) return torch::Tensor();
    return in[i]->t;
  }
  std::vector<int64_t> ints(int from) const {
    if (from >= nia) return {};
    return std::vector<int64_t>(ia + from, ia + nia);
  }
  std::vector<torch::Tensor> all() const {
    std::vector<torch::Tensor> v;
    for (int i = 0; i < nin; i++) v.push_back(t(i));
    return v;
  }
};

torch::TensorOptions factory_opts(const Args &a, int at) {
  a.need(0, at + 3, 0);
  return torch::TensorOptions().dtype(to_scalar(a.ia[at])).device(to_device(a.ia[at + 1], a.ia[at + 2]));
}

// sample draws from a CPU generator when one is given (deterministic for a
// seed on every device), else from the target device's default generator.
template <typename F>
torch::Tensor sample(const Args &a, torch::TensorOptions o, F &&draw) {
  if (a.gen == nullptr) return draw(c10::optional<at::Generator>(), o);
  torch::Tensor cpu = draw(c10::optional<at::Generator>(a.gen->g), o.device(torch::kCPU));
  return o.device().is_cpu() ? cpu : cpu.to(o.device());
}

torch::Tensor rand_like_gen(const Args &a, const torch::Tensor &like) {
  return sample(a, like.options(), [&](c10::optional<at::Generator> g, torch::TensorOptions o) {
    return torch::rand(like.sizes(), g, o);
  });
}

torch::Tensor compare(const Args &a) {
  a.need(1, 1, 0);
  const torch::Tensor &x = a.t(0);
  bool tensor = a.nin >= 2;
  if (!tensor) a.need(1, 1, 1);
  switch (a.ia[0]) {
    case DT_CMP_GT: return tensor ? x.gt(a.t(1)) : x.gt(a.da[0]);
    case DT_CMP_GE: return tensor ? x.ge(a.t(1)) : x.ge(a.da[0]);
    case DT_CMP_LT: return tensor ? x.lt(a.t(1)) : x.lt(a.da[0]);
    case DT_CMP_LE: return tensor ? x.le(a.t(1)) : x.le(a.da[0]);
    case DT_CMP_EQ: return tensor ? x.eq(a.t(1)) : x.eq(a.da[0]);
    case DT_CMP_NE: return tensor ? x.ne(a.t(1)) : x.ne(a.da[0]);
  }
  throw std::invalid_argument("torch shim: bad comparison kind");
}

// ste_mask: in scores; da tau, eps; ia as_coded. Hard 0/1 sample with a
// straight-through gradient, composed from the same ops as the PyTorch
// reference so values match bit for bit.
torch::Tensor ste_mask(const Args &a) {
  a.need(1, 1, 2);
  const torch::Tensor &theta = a.t(0);
  double tau = a.da[0], eps = a.da[1];
  torch::Tensor noise;
  {
    // The noise needs no graph, so it is built in place: same values, fewer
    // allocations.
    torch::NoGradGuard ng;
    torch::Tensor u0 = rand_like_gen(a, theta);
    torch::Tensor u1 = rand_like_gen(a, theta);
    if (eps > 0) {
      u0.clamp_min_(eps);
      u1.clamp_min_(eps);
    }
    noise = u1.log_().div_(u0.log_()).log_().neg_();
  }
  torch::Tensor base = a.ia[0] ? torch::sigmoid(theta) : theta;
  torch::Tensor z = base + noise;
  torch::Tensor soft = torch::sigmoid(tau == 1.0 ? z : z / tau);  // x/1 == x exactly
  torch::Tensor hard = soft.gt(0.5).to(soft.scalar_type());
  return hard - soft.detach() + soft;
}

torch::Tensor reduce(const Args &a, int op) {
  // ia: keepdim, dims...; no dims means over all elements.
  a.need(1, 1, 0);
  const torch::Tensor &x = a.t(0);
  bool keep = a.ia[0] != 0;
  std::vector<int64_t> dims = a.ints(1);
  if (dims.empty()) {
    switch (op) {
      case DT_OP_SUM: return x.sum();
      case DT_OP_MEAN: return x.mean();
      case DT_OP_AMAX: return x.max();
      case DT_OP_LOGSUMEXP: return x.flatten().logsumexp(0);
    }
  }
  at::IntArrayRef d(dims);
  switch (op) {
    case DT_OP_SUM: return x.sum(d, keep);
    case DT_OP_MEAN: return x.mean(d, keep);
    case DT_OP_AMAX: return x.amax(d, keep);
    case DT_OP_LOGSUMEXP: return x.logsumexp(d, keep);
  }
  throw std::invalid_argument("torch shim: bad reduction");
}

// im2col_rows lays x's receptive fields out as rows, one per output position (n, oh, ow),
// ordered (kh, kw, c) to match a channels-last weight: [N·Ho·Wo, kh·kw·C].
torch::Tensor im2col_rows(const torch::Tensor &x, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                          int64_t ph, int64_t pw) {
  torch::Tensor xp = at::constant_pad_nd(x.permute({0, 2, 3, 1}), {0, 0, pw, pw, ph, ph});
  torch::Tensor patches = xp.unfold(1, kh, sh).unfold(2, kw, sw);  // N, Ho, Wo, C, kh, kw
  int64_t rows = patches.size(0) * patches.size(1) * patches.size(2);
  return patches.permute({0, 1, 2, 4, 5, 3}).reshape({rows, kh * kw * x.size(1)});
}

// GemmWgradConv2d is a bf16 convolution on the CPU whose weight gradient is one matrix
// product of the output gradient with the im2col rows. oneDNN's bf16 backward-weights
// kernels (libtorch 1.13) run the cnn's 4×4/s2 layers at a fifth of what its AMX matmul
// reaches on the same operands (docs/results.md, "Where the bf16 step goes"); the forward
// and the input gradient stay oneDNN's. Same sums, another order: float tolerance.
struct GemmWgradConv2d : public torch::autograd::Function<GemmWgradConv2d> {
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, torch::Tensor x,
                               torch::Tensor w, torch::Tensor b, int64_t sh, int64_t sw,
                               int64_t ph, int64_t pw) {
    bool bias = b.numel() > 0;
    ctx->save_for_backward({x, w});
    ctx->saved_data["geometry"] = std::vector<int64_t>{sh, sw, ph, pw};
    ctx->saved_data["bias"] = bias;
    return torch::conv2d(x, w, bias ? b : torch::Tensor(), {sh, sw}, {ph, pw});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1];
    std::vector<int64_t> geo = ctx->saved_data["geometry"].toIntVector();
    torch::Tensor g = grads[0];
    torch::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) {
      gx = std::get<0>(at::convolution_backward(g, x, w, at::OptionalIntArrayRef(), {geo[0], geo[1]},
                                                {geo[2], geo[3]}, {1, 1}, false, {0, 0}, 1,
                                                {true, false, false}));
    }
    if (ctx->needs_input_grad(1)) {
      int64_t o = w.size(0), kh = w.size(2), kw = w.size(3);
      torch::Tensor rows = im2col_rows(x, kh, kw, geo[0], geo[1], geo[2], geo[3]);
      torch::Tensor gm = g.permute({0, 2, 3, 1}).reshape({-1, o});
      gw = gm.t().mm(rows).view({o, kh, kw, x.size(1)}).permute({0, 3, 1, 2});
      gw = gw.contiguous(w.suggest_memory_format());
    }
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) gb = g.sum({0, 2, 3});
    return {gx, gw, gb, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// gemm_wgrad_fits: conv2d takes GemmWgradConv2d where it measures faster, a bf16-autocast
// CPU convolution that needs a weight gradient (dilation 1, one group).
bool gemm_wgrad_fits(const Args &a) {
  const torch::Tensor &x = a.t(0), &w = a.t(1);
  return a.bf16 && x.device().is_cpu() && x.dim() == 4 && torch::GradMode::is_enabled() &&
         w.requires_grad() && a.ia[4] == 1 && a.ia[5] == 1 && a.ia[6] == 1;
}

// gemm_wgrad_conv2d casts as autocast would (its casts stay on the graph, so the float32
// master weights get their gradients through them) and runs GemmWgradConv2d. An absent bias
// goes in as an empty tensor: libtorch 1.13's custom functions cannot take undefined inputs.
torch::Tensor gemm_wgrad_conv2d(const Args &a) {
  torch::Tensor b = a.opt(2);
  b = b.defined() ? b.to(torch::kBFloat16) : torch::empty({0}, a.t(0).options().dtype(torch::kBFloat16));
  return GemmWgradConv2d::apply(a.t(0).to(torch::kBFloat16), a.t(1).to(torch::kBFloat16), b,
                                a.ia[0], a.ia[1], a.ia[2], a.ia[3]);
}

torch::Tensor nn_op(const Args &a, int op) {
  switch (op) {
    case DT_OP_LINEAR:  // in x, w, [b]
      return torch::linear(a.t(0), a.t(1), a.opt(2));
    case DT_OP_CONV2D:  // in x, w, [b]; ia stride2 pad2 dil2 groups
      a.need(2, 7, 0);
      if (gemm_wgrad_fits(a)) return gemm_wgrad_conv2d(a);
      return torch::conv2d(a.t(0), a.t(1), a.opt(2), {a.ia[0], a.ia[1]}, {a.ia[2], a.ia[3]},
                           {a.ia[4], a.ia[5]}, a.ia[6]);
    case DT_OP_BATCH_NORM:  // in x, [w], [b], [rmean], [rvar]; ia training; da momentum eps
      a.need(1, 1, 2);
      return torch::batch_norm(a.t(0), a.opt(1), a.opt(2), a.opt(3), a.opt(4), a.ia[0] != 0,
                               a.da[0], a.da[1], at::globalContext().userEnabledCuDNN());
    case DT_OP_MAX_POOL2D:  // ia kernel2 stride2 pad2 dil2 ceil
      a.need(1, 9, 0);
      return torch::max_pool2d(a.t(0), {a.ia[0], a.ia[1]}, {a.ia[2], a.ia[3]}, {a.ia[4], a.ia[5]},
                               {a.ia[6], a.ia[7]}, a.ia[8] != 0);
    case DT_OP_ADAPTIVE_AVG_POOL2D:  // ia out h, w
      a.need(1, 2, 0);
      return torch::adaptive_avg_pool2d(a.t(0), {a.ia[0], a.ia[1]});
    case DT_OP_SOFTMAX:
      a.need(1, 1, 0);
      return torch::softmax(a.t(0), a.ia[0]);
    case DT_OP_LOG_SOFTMAX:
      a.need(1, 1, 0);
      return torch::log_softmax(a.t(0), a.ia[0]);
    case DT_OP_CROSS_ENTROPY:  // in logits, target; ia reduction
      a.need(2, 1, 0);
      return torch::cross_entropy_loss(a.t(0), a.t(1), {}, a.ia[0]);
    case DT_OP_NLL_LOSS:
      a.need(2, 1, 0);
      return torch::nll_loss(a.t(0), a.t(1), {}, a.ia[0]);
    case DT_OP_NORMALIZE:  // ia dim; da p eps
      a.need(1, 1, 2);
      return torch::nn::functional::normalize(
          a.t(0), torch::nn::functional::NormalizeFuncOptions().p(a.da[0]).dim(a.ia[0]).eps(a.da[1]));
    case DT_OP_STE_MASK:
      return ste_mask(a);
  }
  throw std::invalid_argument("torch shim: unknown op " + std::to_string(op));
}

torch::Tensor shape_op(const Args &a, int op) {
  switch (op) {
    case DT_OP_RESHAPE: a.need(1, 0, 0); return a.t(0).reshape(a.ints(0));
    case DT_OP_VIEW: a.need(1, 0, 0); return a.t(0).view(a.ints(0));
    case DT_OP_FLATTEN: a.need(1, 2, 0); return a.t(0).flatten(a.ia[0], a.ia[1]);
    case DT_OP_PERMUTE: a.need(1, 0, 0); return a.t(0).permute(a.ints(0));
    case DT_OP_TRANSPOSE: a.need(1, 2, 0); return a.t(0).transpose(a.ia[0], a.ia[1]);
    case DT_OP_SQUEEZE: a.need(1, 1, 0); return a.t(0).squeeze(a.ia[0]);
    case DT_OP_UNSQUEEZE: a.need(1, 1, 0); return a.t(0).unsqueeze(a.ia[0]);
    case DT_OP_NARROW: a.need(1, 3, 0); return a.t(0).narrow(a.ia[0], a.ia[1], a.ia[2]);
    case DT_OP_CAT: a.need(1, 1, 0); return torch::cat(a.all(), a.ia[0]);
    case DT_OP_STACK: a.need(1, 1, 0); return torch::stack(a.all(), a.ia[0]);
    case DT_OP_INDEX_SELECT: a.need(2, 1, 0); return a.t(0).index_select(a.ia[0], a.t(1));
    case DT_OP_GATHER: a.need(2, 1, 0); return a.t(0).gather(a.ia[0], a.t(1));
    case DT_OP_CONTIGUOUS: return a.t(0).contiguous();
    case DT_OP_MEMORY_FORMAT: a.need(1, 1, 0); return a.t(0).contiguous(memory_format(a.ia[0]));
    case DT_OP_DETACH: return a.t(0).detach();
    case DT_OP_CLONE: return a.t(0).clone();
  }
  return nn_op(a, op);
}

torch::Tensor factory_op(const Args &a, int op) {
  switch (op) {
    case DT_OP_FULL:  // ia dtype devtype devidx shape...; da value
      a.need(0, 3, 1);
      return torch::full(a.ints(3), a.da[0], factory_opts(a, 0));
    case DT_OP_EYE:  // ia dtype devtype devidx n
      a.need(0, 4, 0);
      return torch::eye(a.ia[3], factory_opts(a, 0));
    case DT_OP_ARANGE:
      a.need(0, 4, 0);
      return torch::arange(a.ia[3], factory_opts(a, 0));
    case DT_OP_RAND:
      return sample(a, factory_opts(a, 0), [&](c10::optional<at::Generator> g, torch::TensorOptions o) {
        return torch::rand(a.ints(3), g, o);
      });
    case DT_OP_RANDN:
      return sample(a, factory_opts(a, 0), [&](c10::optional<at::Generator> g, torch::TensorOptions o) {
        return torch::randn(a.ints(3), g, o);
      });
    case DT_OP_UNIFORM:  // da lo hi
      a.need(0, 3, 2);
      return sample(a, factory_opts(a, 0), [&](c10::optional<at::Generator> g, torch::TensorOptions o) {
        return torch::empty(a.ints(3), o).uniform_(a.da[0], a.da[1], g);
      });
    case DT_OP_RANDPERM:  // ia dtype devtype devidx n
      a.need(0, 4, 0);
      return sample(a, factory_opts(a, 0), [&](c10::optional<at::Generator> g, torch::TensorOptions o) {
        return torch::randperm(a.ia[3], g, o);
      });
    case DT_OP_MULTINOMIAL: {  // in weights; ia n replacement
      a.need(1, 2, 0);
      const torch::Tensor &w = a.t(0);
      if (a.gen == nullptr) return torch::multinomial(w, a.ia[0], a.ia[1] != 0);
      torch::Tensor idx = torch::multinomial(w.to(torch::kCPU), a.ia[0], a.ia[1] != 0, a.gen->g);
      return idx.to(w.device());
    }
  }
  return shape_op(a, op);
}

torch::Tensor math_op(const Args &a, int op) {
  switch (op) {
    case DT_OP_ADD: return a.t(0) + a.t(1);
    case DT_OP_SUB: return a.t(0) - a.t(1);
    case DT_OP_MUL: return a.t(0) * a.t(1);
    case DT_OP_DIV: return a.t(0) / a.t(1);
    case DT_OP_POW: return a.t(0).pow(a.t(1));
    case DT_OP_MAXIMUM: return torch::maximum(a.t(0), a.t(1));
    case DT_OP_MINIMUM: return torch::minimum(a.t(0), a.t(1));
    case DT_OP_LOGICAL_AND: return torch::logical_and(a.t(0), a.t(1));
    case DT_OP_LOGICAL_OR: return torch::logical_or(a.t(0), a.t(1));
    case DT_OP_MATMUL: return torch::matmul(a.t(0), a.t(1));
    case DT_OP_WHERE: return torch::where(a.t(0), a.t(1), a.t(2));
    case DT_OP_CMP: return compare(a);
    case DT_OP_MASKED_FILL: a.need(2, 0, 1); return a.t(0).masked_fill(a.t(1), a.da[0]);
  }
  if (op >= DT_OP_ADD_S && op <= DT_OP_RSUB_S) {
    a.need(1, 0, 1);
    const torch::Tensor &x = a.t(0);
    double s = a.da[0];
    switch (op) {
      case DT_OP_ADD_S: return x + s;
      case DT_OP_SUB_S: return x - s;
      case DT_OP_MUL_S: return x * s;
      case DT_OP_DIV_S: return x / s;
      case DT_OP_POW_S: return x.pow(s);
      case DT_OP_RSUB_S: return torch::rsub(x, s);
    }
  }
  switch (op) {
    case DT_OP_NEG: return -a.t(0);
    case DT_OP_EXP: return a.t(0).exp();
    case DT_OP_LOG: return a.t(0).log();
    case DT_OP_ABS: return a.t(0).abs();
    case DT_OP_SQRT: return a.t(0).sqrt();
    case DT_OP_SQUARE: return a.t(0) * a.t(0);
    case DT_OP_SIGN: return a.t(0).sign();
    case DT_OP_RELU: return torch::relu(a.t(0));
    case DT_OP_SIGMOID: return torch::sigmoid(a.t(0));
    case DT_OP_TANH: return torch::tanh(a.t(0));
    case DT_OP_LOGICAL_NOT: return torch::logical_not(a.t(0));
    case DT_OP_ANY_NONFINITE: return torch::isfinite(a.t(0)).logical_not().any();
    case DT_OP_TO_DTYPE: a.need(1, 1, 0); return a.t(0).to(to_scalar(a.ia[0]));
    case DT_OP_TO_DEVICE: a.need(1, 2, 0); return a.t(0).to(to_device(a.ia[0], a.ia[1]));
    case DT_OP_CLAMP: {  // ia has_lo has_hi; da lo hi
      a.need(1, 2, 2);
      torch::Tensor x = a.t(0);
      if (a.ia[0]) x = x.clamp_min(a.da[0]);
      if (a.ia[1]) x = x.clamp_max(a.da[1]);
      return x;
    }
    case DT_OP_ONE_HOT: a.need(1, 1, 0); return torch::one_hot(a.t(0), a.ia[0]);
    case DT_OP_ARGMAX:  // ia dim keepdim; none means flattened
      if (a.nia < 2) return a.t(0).argmax();
      return a.t(0).argmax(a.ia[0], a.ia[1] != 0);
    case DT_OP_SUM:
    case DT_OP_MEAN:
    case DT_OP_AMAX:
    case DT_OP_LOGSUMEXP:
      return reduce(a, op);
  }
  return factory_op(a, op);
}

}  // namespace

extern "C" {

int dt_built_with_cuda(void) {
#ifdef DT_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

int dt_cuda_available(void) {
  try {
    return torch::cuda::is_available() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int dt_cuda_device_count(void) {
  try {
    return static_cast<int>(torch::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

void dt_set_num_threads(int n) {
  torch::set_num_threads(n);
  // libtorch sizes MKL but not OpenBLAS (Debian's BLAS), whose own workers
  // otherwise spin on every core; looked up at run time so MKL builds link.
  using set_fn = void (*)(int);
  if (auto f = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}
int dt_get_num_threads(void) { return torch::get_num_threads(); }
const char *dt_torch_version(void) { return TORCH_VERSION; }

int dt_tune_malloc(void) {
  // glibc serves blocks above a (moving) threshold with fresh mmaps and trims
  // the heap eagerly, so each step's activations and gradients page-fault
  // anew; fixed high thresholds make steady-state training reuse memory.
  int ok = mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ok &= mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return ok;
}

char *dt_manual_seed(uint64_t seed) {
  return guard([&] { torch::manual_seed(seed); });
}

char *dt_cuda_synchronize(void) {
  return guard([&] {
    if (torch::cuda::is_available()) torch::cuda::synchronize();
  });
}

char *dt_gen_new(uint64_t seed, dt_gen *out) {
  return guard([&] { *out = new dt_gen_s{at::detail::createCPUGenerator(seed)}; });
}

void dt_gen_free(dt_gen g) { delete g; }

void dt_free(dt_tensor t) { delete t; }

char *dt_from_data(const void *data, int dtype, const int64_t *shape, int ndim, int dev_type,
                   int dev_index, dt_tensor *out) {
  return guard([&] {
    std::vector<int64_t> dims(shape, shape + ndim);
    auto opts = torch::TensorOptions().dtype(to_scalar(dtype));
    // from_blob borrows Go memory, so copy before returning either way.
    torch::Tensor view = torch::from_blob(const_cast<void *>(data), dims, opts);
    torch::Device dev = to_device(dev_type, dev_index);
    *out = wrap(dev.is_cpu() ? view.clone() : view.to(dev));
  });
}

char *dt_read(dt_tensor t, int dtype, void *out, int64_t n) {
  return guard([&] {
    torch::Tensor c = t->t.detach().to(torch::kCPU, to_scalar(dtype)).contiguous();
    if (c.numel() != n)
      throw std::invalid_argument("torch shim: read buffer has " + std::to_string(n) +
                                  " elements, tensor has " + std::to_string(c.numel()));
    if (n > 0) std::memcpy(out, c.data_ptr(), n * c.element_size());
  });
}

char *dt_info(dt_tensor t, int64_t *shape, int *ndim, int *dtype, int *dev_type, int *dev_index,
              int *requires_grad) {
  return guard([&] {
    const torch::Tensor &x = t->t;
    if (!x.defined()) throw std::invalid_argument("torch shim: undefined tensor");
    if (x.dim() > DT_MAX_DIMS) throw std::invalid_argument("torch shim: too many dimensions");
    *ndim = static_cast<int>(x.dim());
    for (int64_t i = 0; i < x.dim(); i++) shape[i] = x.size(i);
    *dtype = from_scalar(x.scalar_type());
    *dev_type = x.device().is_cuda() ? DT_CUDA : DT_CPU;
    *dev_index = x.device().has_index() ? x.device().index() : 0;
    *requires_grad = x.requires_grad() ? 1 : 0;
  });
}

char *dt_set_requires_grad(dt_tensor t, int on) {
  return guard([&] { t->t.set_requires_grad(on != 0); });
}

char *dt_grad(dt_tensor t, dt_tensor *out) {
  return guard([&] {
    const torch::Tensor &g = t->t.grad();
    *out = g.defined() ? wrap(g) : nullptr;
  });
}

char *dt_zero_grad(dt_tensor t) {
  return guard([&] { t->t.mutable_grad().reset(); });
}

char *dt_backward(dt_tensor loss, int retain_graph) {
  return guard([&] {
    c10::AutoGradMode on(true);
    loss->t.backward({}, retain_graph != 0);
  });
}

char *dt_copy_(dt_tensor dst, dt_tensor src) {
  return guard([&] {
    torch::NoGradGuard ng;
    dst->t.copy_(src->t);
  });
}

char *dt_op(int op, const dt_tensor *in, int nin, const int64_t *ia, int nia, const double *da,
            int nda, dt_gen gen, int grad, dt_tensor *out) {
  return guard([&] {
    c10::AutoGradMode mode(grad != 0);
    Args a{in, nin, ia, nia, da, nda, gen};
    *out = wrap(math_op(a, op));
  });
}

char *dt_op_flags(int op, const dt_tensor *in, int nin, const int64_t *ia, int nia,
                  const double *da, int nda, dt_gen gen, int flags, dt_tensor *out) {
  return guard([&] {
    c10::AutoGradMode mode((flags & DT_FLAG_GRAD) != 0);
    Autocast ac((flags & DT_FLAG_AUTOCAST_BF16) != 0);
    Args a{in, nin, ia, nia, da, nda, gen, (flags & DT_FLAG_AUTOCAST_BF16) != 0};
    *out = wrap(math_op(a, op));
  });
}

char *dt_is_format(dt_tensor t, int format, int *out) {
  return guard([&] { *out = t->t.is_contiguous(memory_format(format)) ? 1 : 0; });
}

char *dt_adam_update(dt_tensor p, dt_tensor g, dt_tensor m, dt_tensor v, double lr, double beta1,
                     double beta2, double eps, double weight_decay, int64_t step) {
  // torch.optim.Adam's single-tensor step (amsgrad off) of the same PyTorch version, in place:
  // no temporaries but the weight-decayed gradient and the denominator. Its arithmetic changed
  // twice, each change a different rounding: PyTorch 2.0 moved the first moment to lerp_,
  // 2.5 took the bias correction's square root as ** 0.5 (pow) instead of math.sqrt.
  return guard([&] {
    torch::NoGradGuard ng;
    torch::Tensor grad = weight_decay != 0 ? g->t.add(p->t, weight_decay) : g->t;
#if TORCH_VERSION_MAJOR >= 2
    m->t.lerp_(grad, 1 - beta1);
#else
    m->t.mul_(beta1).add_(grad, 1 - beta1);
#endif
    v->t.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
    double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
    double bc2_sqrt = std::pow(bc2, 0.5);
#else
    double bc2_sqrt = std::sqrt(bc2);
#endif
    torch::Tensor denom = (v->t.sqrt() / bc2_sqrt).add_(eps);
    p->t.addcdiv_(m->t, denom, -lr / bc1);
  });
}

}  // extern "C"
