// A loaded TorchScript module as a JS object: forward(inputs) -> Promise, argumentNames(), dispose().
#pragma once

#include <napi.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

namespace ferry {

class ScriptModule : public Napi::ObjectWrap<ScriptModule> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A JS ScriptModule owning `module` (called on the main thread when a load finishes).
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<torch::jit::Module> module,
                           std::vector<std::string> argument_names);

  explicit ScriptModule(const Napi::CallbackInfo& info);

 private:
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value ArgumentNames(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // Shared with the forward workers in flight, so dispose() during a forward is safe: the module is
  // freed when the last of them finishes.
  std::shared_ptr<torch::jit::Module> module_;
  std::vector<std::string> argument_names_;
};

}  // namespace ferry
