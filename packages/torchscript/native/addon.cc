// @ferry/torchscript's native addon: TorchScript modules run by Debian's libtorch (1.13).
#include <ATen/Parallel.h>
#include <napi.h>
#include <torch/version.h>

#include "load-worker.h"
#include "script-module.h"

namespace ferry {
namespace {

Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "load(path): path must be a string");
  auto* worker = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// at::set_num_threads is process-wide: every module in this process shares the intra-op setting.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double n = info.Length() == 1 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  if (!(n >= 1 && n <= 1024 && static_cast<double>(static_cast<int>(n)) == n))
    throw Napi::RangeError::New(env, "setNumThreads(n): n must be an integer from 1 to 1024");
  at::set_num_threads(static_cast<int>(n));
  return env.Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New<Load>(env, "load"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  exports.Set("ScriptModule", ScriptModule::Define(env));
  return exports;
}

}  // namespace ferry

// NODE_API_MODULE pastes the name into an identifier: it needs an unqualified one
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ferry::Init(env, exports); }

NODE_API_MODULE(ferry_torchscript, InitAddon)
