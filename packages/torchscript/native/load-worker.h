// torch::jit::load on libuv's thread pool (reading and unpickling a large archive takes a while).
#pragma once

#include <napi.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

namespace ferry {

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path);

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  std::shared_ptr<torch::jit::Module> module_;
  std::vector<std::string> argument_names_;
};

}  // namespace ferry
