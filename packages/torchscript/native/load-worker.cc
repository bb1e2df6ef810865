#include "load-worker.h"

#include <stdexcept>

#include "errors.h"
#include "script-module.h"

namespace ferry {

LoadWorker::LoadWorker(Napi::Env env, std::string path)
    : Napi::AsyncWorker(env, "ferry.torchscript.load"),
      deferred_(Napi::Promise::Deferred::New(env)),
      path_(std::move(path)) {}

void LoadWorker::Execute() {
  try {
    auto module = std::make_shared<torch::jit::Module>(torch::jit::load(path_, torch::kCPU));
    // eval(): dropout off, batch norm on running statistics, as TorchServe and Triton do
    module->eval();
    auto forward = module->find_method("forward");
    if (!forward) throw std::runtime_error("the TorchScript module has no forward method");
    const auto& arguments = forward->function().getSchema().arguments();
    // the first argument is self
    for (size_t i = 1; i < arguments.size(); i++) argument_names_.push_back(arguments[i].name());
    module_ = std::move(module);
  } catch (const std::exception& error) {
    SetError(Describe(error));
  } catch (...) {
    SetError("libtorch threw a non-standard exception");
  }
}

void LoadWorker::OnOK() {
  deferred_.Resolve(ScriptModule::Wrap(Env(), std::move(module_), std::move(argument_names_)));
}

void LoadWorker::OnError(const Napi::Error& error) { deferred_.Reject(error.Value()); }

}  // namespace ferry
