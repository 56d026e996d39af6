/*
 * dcwp torch shim: a plain C ABI over libtorch's C++ API.
 *
 * Why a shim: cgo cannot call C++ and gotch does not build against the
 * libtorch versions the project targets. Everything crossing this boundary
 * is an opaque handle, a plain number or a caller-owned buffer.
 *
 * Error convention: every function returning char* returns NULL on success
 * or a malloc'd, NUL-terminated message (libtorch's own text for c10::Error)
 * that the caller must free(). No C++ exception ever crosses this boundary.
 *
 * Grad mode: libtorch keeps grad mode per OS thread. Go goroutines migrate
 * between threads, so every call that can build autograd graph takes the
 * mode as an explicit argument and sets it for its own duration.
 */
#ifndef DCWP_TORCH_SHIM_H
#define DCWP_TORCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_tensor_s *dt_tensor;
typedef struct dt_gen_s *dt_gen;

#define DT_MAX_DIMS 16

/* dtypes */
enum { DT_FLOAT32 = 0, DT_FLOAT64 = 1, DT_INT64 = 2, DT_BOOL = 3, DT_INT32 = 4, DT_UINT8 = 5, DT_BFLOAT16 = 6, DT_OTHER = 99 };
/* device types */
enum { DT_CPU = 0, DT_CUDA = 1 };

/* Op codes for dt_op. Argument conventions are documented in shim.cpp. */
enum {
  DT_OP_ADD = 1, DT_OP_SUB, DT_OP_MUL, DT_OP_DIV, DT_OP_POW,
  DT_OP_ADD_S, DT_OP_SUB_S, DT_OP_MUL_S, DT_OP_DIV_S, DT_OP_POW_S, DT_OP_RSUB_S,
  DT_OP_NEG, DT_OP_EXP, DT_OP_LOG, DT_OP_ABS, DT_OP_SQRT, DT_OP_RELU, DT_OP_SIGMOID, DT_OP_TANH,
  DT_OP_CMP, DT_OP_WHERE, DT_OP_TO_DTYPE, DT_OP_TO_DEVICE,
  DT_OP_MATMUL, DT_OP_LINEAR, DT_OP_CONV2D, DT_OP_BATCH_NORM, DT_OP_MAX_POOL2D,
  DT_OP_ADAPTIVE_AVG_POOL2D, DT_OP_SOFTMAX, DT_OP_LOG_SOFTMAX, DT_OP_CROSS_ENTROPY,
  DT_OP_NLL_LOSS, DT_OP_GATHER, DT_OP_SUM, DT_OP_MEAN, DT_OP_AMAX, DT_OP_ARGMAX,
  DT_OP_LOGSUMEXP, DT_OP_NORMALIZE, DT_OP_RESHAPE, DT_OP_FLATTEN, DT_OP_PERMUTE,
  DT_OP_TRANSPOSE, DT_OP_SQUEEZE, DT_OP_UNSQUEEZE, DT_OP_NARROW, DT_OP_CAT, DT_OP_STACK,
  DT_OP_INDEX_SELECT, DT_OP_MASKED_FILL, DT_OP_DETACH, DT_OP_CLONE, DT_OP_FULL,
  DT_OP_EYE, DT_OP_ARANGE, DT_OP_RAND, DT_OP_RANDN, DT_OP_UNIFORM, DT_OP_MULTINOMIAL,
  DT_OP_STE_MASK, DT_OP_MAXIMUM, DT_OP_MINIMUM, DT_OP_CLAMP, DT_OP_ONE_HOT,
  DT_OP_LOGICAL_NOT, DT_OP_LOGICAL_AND, DT_OP_LOGICAL_OR, DT_OP_SIGN, DT_OP_SQUARE,
  DT_OP_VIEW, DT_OP_CONTIGUOUS, DT_OP_RANDPERM, DT_OP_ANY_NONFINITE,
  DT_OP_MEMORY_FORMAT, /* ia[0]: DT_FORMAT_*; the same values in another layout */
  DT_OP__COUNT
};

/* Memory formats for DT_OP_MEMORY_FORMAT and dt_is_format. */
enum { DT_FORMAT_CONTIGUOUS = 0, DT_FORMAT_CHANNELS_LAST = 1 };

/* Flags of dt_op_flags. */
enum {
  DT_FLAG_GRAD = 1,          /* record autograd graph */
  DT_FLAG_AUTOCAST_BF16 = 2, /* bf16 autocast (CPU and CUDA) for this op */
};

/* Comparison kinds for DT_OP_CMP (ia[0]). */
enum { DT_CMP_GT = 0, DT_CMP_GE, DT_CMP_LT, DT_CMP_LE, DT_CMP_EQ, DT_CMP_NE };

/* Library and process-wide settings (libtorch keeps these globally). */
int dt_built_with_cuda(void);
int dt_cuda_available(void);
int dt_cuda_device_count(void);
void dt_set_num_threads(int n);
int dt_get_num_threads(void);
char *dt_manual_seed(uint64_t seed);
char *dt_cuda_synchronize(void);
const char *dt_torch_version(void);
/* Keeps freed tensor memory in the process instead of returning it to the
 * kernel after every step (glibc mallopt; process-wide). Returns 1 if applied. */
int dt_tune_malloc(void);

/* Generators: always CPU generators, so sampling is deterministic for a seed. */
char *dt_gen_new(uint64_t seed, dt_gen *out);
void dt_gen_free(dt_gen g);

/* Tensors */
void dt_free(dt_tensor t);
char *dt_from_data(const void *data, int dtype, const int64_t *shape, int ndim,
                   int dev_type, int dev_index, dt_tensor *out);
char *dt_read(dt_tensor t, int dtype, void *out, int64_t n);
char *dt_info(dt_tensor t, int64_t *shape, int *ndim, int *dtype, int *dev_type,
              int *dev_index, int *requires_grad);
char *dt_set_requires_grad(dt_tensor t, int on);
char *dt_grad(dt_tensor t, dt_tensor *out); /* *out NULL when there is no grad */
char *dt_zero_grad(dt_tensor t);            /* sets the grad to undefined */
char *dt_backward(dt_tensor loss, int retain_graph);
char *dt_copy_(dt_tensor dst, dt_tensor src); /* in place, outside autograd */

/* Generic op: in[] may contain NULL for optional inputs, gen may be NULL. */
char *dt_op(int op, const dt_tensor *in, int nin, const int64_t *ia, int nia,
            const double *da, int nda, dt_gen gen, int grad, dt_tensor *out);

/* dt_op with flags (DT_FLAG_*) instead of a grad mode. Autocast, like grad mode, is
 * thread-local in libtorch, so it is set for the op's duration only, with its cast cache off:
 * a cache kept between calls would hand out stale casts of weights updated in place. */
char *dt_op_flags(int op, const dt_tensor *in, int nin, const int64_t *ia, int nia,
                  const double *da, int nda, dt_gen gen, int flags, dt_tensor *out);

/* *out = 1 when t is laid out in format (DT_FORMAT_*), else 0. */
char *dt_is_format(dt_tensor t, int format, int *out);

/* One Adam update of p and its moments m, v from gradient g, in place and outside autograd
 * (step counts from 1): torch.optim.Adam's arithmetic, with the state owned by the caller. */
char *dt_adam_update(dt_tensor p, dt_tensor g, dt_tensor m, dt_tensor v, double lr, double beta1,
                     double beta2, double eps, double weight_decay, int64_t step);

#ifdef __cplusplus
}
#endif
#endif
