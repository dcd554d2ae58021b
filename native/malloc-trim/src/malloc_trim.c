/*
 * malloc_trim(0) for Node.js (N-API, so one build serves every Node version).
 *
 * glibc keeps the memory that free() returns inside its heaps: a page in the
 * middle of a heap stays resident although nothing on it is in use, until
 * malloc_trim() hands such pages back (madvise MADV_DONTNEED). A busy
 * `maverick run` frees and allocates millions of buffers a minute across three
 * threads, which leaves megabytes of such pages behind; Node never calls it.
 *
 * trim() returns true when memory was released. `supported` is false where the
 * C library has no malloc_trim (musl, macOS): trim() then does nothing.
 */
#include <stdlib.h>
#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#define MAVERICK_HAS_MALLOC_TRIM 1
#else
#define MAVERICK_HAS_MALLOC_TRIM 0
#endif

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#if MAVERICK_HAS_MALLOC_TRIM
  released = malloc_trim(0);
#endif
  napi_value result;
  if (napi_get_boolean(env, released != 0, &result) != napi_ok) return NULL;
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_value supported;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  if (napi_get_boolean(env, MAVERICK_HAS_MALLOC_TRIM, &supported) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "supported", supported) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
