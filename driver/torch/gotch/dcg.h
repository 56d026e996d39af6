// dcg.h: the gotch engine's C helpers over gotch's libtch (driver/torch/gotch*.go,
// build tag gotch). Every gotch*.go file includes it: cgo resolves each file's C names in
// that file's preamble. The helpers are static, one copy per file that uses them.
#ifndef DCG_H
#define DCG_H
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "libtch/torch_api.h"

// One libtch call per helper, on one OS thread: the grad mode it sets and the error it reads
// back are both per thread in libtorch, so they must not be split across cgo calls that the
// goroutine may make from different threads.
typedef void (*dcg_fn1)(tensor *, tensor);
typedef void (*dcg_fn2)(tensor *, tensor, tensor);
typedef void (*dcg_fns)(tensor *, tensor, scalar);

static char *dcg_call1(dcg_fn1 f, int grad, tensor *out, tensor a) {
  at_grad_set_enabled(grad);
  f(out, a);
  return get_and_reset_last_err();
}

static char *dcg_call2(dcg_fn2 f, int grad, tensor *out, tensor a, tensor b) {
  at_grad_set_enabled(grad);
  f(out, a, b);
  return get_and_reset_last_err();
}

static char *dcg_calls(dcg_fns f, int grad, tensor *out, tensor a, double v) {
  scalar s = ats_float(v);
  at_grad_set_enabled(grad);
  f(out, a, s);
  ats_free(s);
  return get_and_reset_last_err();
}

// dcg_info reads what Tensor.Info reports in one call.
static char *dcg_info(tensor t, int64_t *shape, int max, int *ndim, int *dtype, int *dev, int *rg) {
  if (!at_defined(t)) return strdup("undefined tensor");
  size_t nd = at_dim(t);
  if (nd > (size_t)max) return strdup("too many dimensions");
  *ndim = (int)nd;
  at_shape(t, shape);
  *dtype = at_scalar_type(t);
  *dev = at_device(t);
  *rg = at_requires_grad(t);
  return get_and_reset_last_err();
}

// dcg_from_data copies n elements of dtype into a new tensor on dev (-1: the CPU).
static char *dcg_from_data(void *data, int64_t *shape, int ndim, size_t elt, int dtype, int dev, tensor *out) {
  tensor t = at_tensor_of_data(data, shape, ndim, elt, dtype);
  char *e = get_and_reset_last_err();
  if (e || dev < 0) { *out = t; return e; }
  atg_to(out, t, dev);
  at_free(t);
  return get_and_reset_last_err();
}

// dcg_read copies t, converted to dtype on the CPU, to out (n elements of elt bytes),
// outside autograd.
static char *dcg_read(tensor t, int dtype, void *out, int64_t n, size_t elt) {
  tensor c[1] = {0};
  char *e;
  at_grad_set_enabled(0);
  atg_to_device(c, t, -1, dtype, 0, 0);
  if ((e = get_and_reset_last_err())) return e;
  at_copy_data(c[0], out, n, elt);
  at_free(c[0]);
  return get_and_reset_last_err();
}

// dcg_zero_grad drops t's gradient (set_to_none): libtch has no call for it but the
// optimizers' zero_grad, which in libtorch 2.x resets each gradient to undefined.
static char *dcg_zero_grad(tensor t) {
  optimizer o = ato_sgd(0, 0, 0, 0, 0);
  char *e = get_and_reset_last_err();
  if (e) return e;
  ato_add_parameter(o, t, 0);
  ato_zero_grad(o);
  ato_free(o);
  return get_and_reset_last_err();
}

// dcg_adam is torch.optim.Adam's single-tensor step of libtorch 2.x (amsgrad off, no weight
// decay), in place and outside autograd, from libtch's ops: libtch's functions take no
// alpha or value argument, so addcmul_(g, g, value=c) is self + (c·g)·g and
// addcdiv_(m, d, value=c) is self + (c·m)/d, the order libtorch's CPU kernels compute them
// in. bc2_sqrt and step_size are computed by the caller as Python computes them.
static char *dcg_adam(tensor p, tensor g, tensor m, tensor v, double beta1, double beta2,
                      double eps, double step_size, double bc2_sqrt) {
  tensor o[1] = {0}, a[1] = {0}, b[1] = {0};
  char *e = NULL;
  scalar s;
  at_grad_set_enabled(0);
#define DCG_STEP(call) do { call; if ((e = get_and_reset_last_err())) goto done; } while (0)
#define DCG_FREE(x) do { if (x[0]) { at_free(x[0]); x[0] = 0; } } while (0)
  s = ats_float(1 - beta1);                       // m.lerp_(g, 1-beta1)
  DCG_STEP(atg_lerp_(o, m, g, s)); ats_free(s); DCG_FREE(o);
  s = ats_float(beta2);                           // v.mul_(beta2)
  DCG_STEP(atg_mul_scalar_(o, v, s)); ats_free(s); DCG_FREE(o);
  s = ats_float(1 - beta2);                       // .addcmul_(g, g, value=1-beta2)
  DCG_STEP(atg_mul_scalar(a, g, s)); ats_free(s);
  DCG_STEP(atg_mul_(o, a[0], g)); DCG_FREE(o);
  DCG_STEP(atg_add_(o, v, a[0])); DCG_FREE(o); DCG_FREE(a);
  DCG_STEP(atg_sqrt(a, v));                       // denom = (v.sqrt() / bc2_sqrt).add_(eps)
  s = ats_float(bc2_sqrt);
  DCG_STEP(atg_div_scalar_(o, a[0], s)); ats_free(s); DCG_FREE(o);
  s = ats_float(eps);
  DCG_STEP(atg_add_scalar_(o, a[0], s)); ats_free(s); DCG_FREE(o);
  s = ats_float(-step_size);                      // p.addcdiv_(m, denom, value=-step_size)
  DCG_STEP(atg_mul_scalar(b, m, s)); ats_free(s);
  DCG_STEP(atg_div_(o, b[0], a[0])); DCG_FREE(o);
  DCG_STEP(atg_add_(o, p, b[0])); DCG_FREE(o);
  s = NULL;
done:
  if (s) ats_free(s);
  DCG_FREE(o); DCG_FREE(a); DCG_FREE(b);
#undef DCG_STEP
#undef DCG_FREE
  return e;
}

// The libtorch the engine was built against, and whether set-up linked its CUDA libraries
// (tools/setup-gotch.sh writes both next to libtch's copy).
#include "torch_version.h"
#include "dcg_config.h"

static int dcg_built_with_cuda(void) { return DCG_WITH_CUDA; }
static const char *dcg_torch_version(void) { return TORCH_VERSION; }

// dcg_set_num_threads sets libtorch's count and, where the process has OpenBLAS, OpenBLAS's
// (libtorch sizes only its own pools), as the shim does.
static void dcg_set_num_threads(int n) {
  at_set_num_threads(n);
  void (*f)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (f) f(n);
}

static int dcg_tune_malloc(void) {
  int ok = mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ok &= mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return ok;
}
#endif
