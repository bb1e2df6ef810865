#include "script-module.h"

#include "forward-worker.h"

namespace ferry {

namespace {
struct AddonData {
  Napi::FunctionReference script_module;
};
}  // namespace

Napi::Function ScriptModule::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "ScriptModule",
                                    {
                                        InstanceMethod<&ScriptModule::Forward>("forward"),
                                        InstanceMethod<&ScriptModule::ArgumentNames>("argumentNames"),
                                        InstanceMethod<&ScriptModule::Dispose>("dispose"),
                                    });
  auto* data = new AddonData{Napi::Persistent(ctor)};
  env.SetInstanceData<AddonData>(data);
  return ctor;
}

Napi::Object ScriptModule::Wrap(Napi::Env env, std::shared_ptr<torch::jit::Module> module,
                                std::vector<std::string> argument_names) {
  Napi::Object object = env.GetInstanceData<AddonData>()->script_module.New({});
  ScriptModule* self = Unwrap(object);
  self->module_ = std::move(module);
  self->argument_names_ = std::move(argument_names);
  return object;
}

ScriptModule::ScriptModule(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ScriptModule>(info) {}

Napi::Value ScriptModule::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!module_) throw Napi::Error::New(env, "the TorchScript module was disposed");
  if (info.Length() != 1 || !info[0].IsArray())
    throw Napi::TypeError::New(env, "forward(inputs): inputs must be an array of {dtype, shape, data}");
  auto* worker = new ForwardWorker(env, module_, info[0].As<Napi::Array>());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ScriptModule::ArgumentNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array names = Napi::Array::New(env, argument_names_.size());
  for (size_t i = 0; i < argument_names_.size(); i++) names.Set(i, argument_names_[i]);
  return names;
}

Napi::Value ScriptModule::Dispose(const Napi::CallbackInfo& info) {
  module_.reset();
  return info.Env().Undefined();
}

}  // namespace ferry
