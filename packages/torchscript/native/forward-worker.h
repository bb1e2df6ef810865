// One forward() call on libuv's thread pool: the event loop never waits for libtorch.
#pragma once

#include <napi.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

namespace ferry {

// One input as JS handed it over: a view into a Node buffer, read on the worker thread.
struct InputTensor {
  c10::ScalarType type;
  std::vector<int64_t> shape;
  uint8_t* data;
  size_t byte_length;
};

struct OutputTensor {
  std::string name;
  at::Tensor tensor;
};

class ForwardWorker : public Napi::AsyncWorker {
 public:
  // Checks `inputs` (array of {dtype, shape, data}) on the main thread; throws a JS error when bad.
  ForwardWorker(Napi::Env env, std::shared_ptr<torch::jit::Module> module, Napi::Array inputs);

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  void AddOutput(std::string name, const c10::IValue& value);
  void CollectOutputs(const c10::IValue& result);
  void ReleaseInputs();

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<torch::jit::Module> module_;
  std::vector<InputTensor> inputs_;
  // Holds every input typed array so its memory outlives the worker thread's use of it.
  Napi::ObjectReference keep_alive_;
  // Storages made by from_blob over Node memory; checked afterwards for a model that kept one.
  std::vector<c10::Storage> borrowed_;
  std::vector<OutputTensor> outputs_;
};

}  // namespace ferry
