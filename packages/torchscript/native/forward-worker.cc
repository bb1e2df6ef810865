#include "forward-worker.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "dtype.h"
#include "errors.h"

namespace ferry {
namespace {

// The same bound the server puts on inputs/outputs per request (packages/serve limits); a
// longer list is a malformed call, not a model (CWE-770).
constexpr uint32_t kMaxTensors = 1024;
// libtorch has no rank limit of its own; no model needs more and the shape is copied per call.
constexpr uint32_t kMaxRank = 64;
// Shape values arrive as JS numbers: exact integers only up to 2^53.
constexpr double kMaxDim = 9007199254740991.0;

[[noreturn]] void Fail(Napi::Env env, uint32_t index, const std::string& reason) {
  throw Napi::TypeError::New(env, "forward: input " + std::to_string(index) + ": " + reason);
}

InputTensor ParseInput(Napi::Env env, uint32_t index, Napi::Value value) {
  if (!value.IsObject()) Fail(env, index, "must be an object {dtype, shape, data}");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Value dtype = object.Get("dtype");
  if (!dtype.IsString()) Fail(env, index, "dtype must be a string");
  std::string dtype_name = dtype.As<Napi::String>().Utf8Value();
  auto type = ScalarTypeOf(dtype_name);
  if (!type)
    Fail(env, index,
         "dtype " + dtype_name + " is not one of BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64");
  Napi::Value shape_value = object.Get("shape");
  if (!shape_value.IsArray()) Fail(env, index, "shape must be an array of integers");
  Napi::Array shape = shape_value.As<Napi::Array>();
  if (shape.Length() > kMaxRank)
    Fail(env, index, "rank " + std::to_string(shape.Length()) + " is over the limit of " + std::to_string(kMaxRank));
  InputTensor input{*type, {}, nullptr, 0};
  uint64_t count = 1;
  bool overflow = false;
  for (uint32_t k = 0; k < shape.Length(); k++) {
    Napi::Value dim = shape.Get(k);
    double d = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= kMaxDim && std::floor(d) == d))
      Fail(env, index, "shape[" + std::to_string(k) + "] must be a non-negative integer");
    auto n = static_cast<uint64_t>(d);
    if (n != 0 && count > UINT64_MAX / n) overflow = true;
    count *= n;
    input.shape.push_back(static_cast<int64_t>(n));
  }
  Napi::Value data = object.Get("data");
  if (!data.IsTypedArray()) Fail(env, index, "data must be a typed array (a Buffer or Uint8Array)");
  Napi::TypedArray array = data.As<Napi::TypedArray>();
  const uint64_t element = c10::elementSize(*type);
  if (overflow || count > UINT64_MAX / element || count * element != array.ByteLength())
    Fail(env, index,
         "data holds " + std::to_string(array.ByteLength()) + " bytes but " + dtype_name + " shape needs " +
             (overflow ? std::string("more than 2^64") : std::to_string(count * element)));
  input.data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  input.byte_length = array.ByteLength();
  // a torch bool holding anything but 0/1 is undefined behaviour in its kernels
  if (*type == c10::ScalarType::Bool)
    for (size_t i = 0; i < input.byte_length; i++)
      if (input.data[i] > 1)
        Fail(env, index, "BOOL byte " + std::to_string(i) + " is " + std::to_string(input.data[i]) + ", not 0 or 1");
  return input;
}

}  // namespace

ForwardWorker::ForwardWorker(Napi::Env env, std::shared_ptr<torch::jit::Module> module, Napi::Array inputs)
    : Napi::AsyncWorker(env, "ferry.torchscript.forward"),
      deferred_(Napi::Promise::Deferred::New(env)),
      module_(std::move(module)) {
  if (inputs.Length() > kMaxTensors)
    throw Napi::TypeError::New(env, "forward: " + std::to_string(inputs.Length()) +
                                        " inputs is over the limit of " + std::to_string(kMaxTensors));
  Napi::Array held = Napi::Array::New(env, inputs.Length());
  for (uint32_t i = 0; i < inputs.Length(); i++) {
    inputs_.push_back(ParseInput(env, i, inputs.Get(i)));
    held.Set(i, inputs.Get(i).As<Napi::Object>().Get("data"));
  }
  keep_alive_ = Napi::Persistent(held.As<Napi::Object>());
}

void ForwardWorker::Execute() {
  try {
    // OpenMP keeps the thread count per thread: apply the process-wide setting to this pool thread
    at::init_num_threads();
    c10::InferenceMode guard;
    std::vector<c10::IValue> args;
    args.reserve(inputs_.size());
    for (const InputTensor& input : inputs_) {
      auto options = at::TensorOptions().dtype(input.type).device(at::kCPU);
      const size_t element = c10::elementSize(input.type);
      at::Tensor tensor;
      // zero-copy where the Node memory is aligned for the dtype (a Buffer slice may not be)
      if (input.byte_length > 0 && reinterpret_cast<uintptr_t>(input.data) % element == 0) {
        tensor = torch::from_blob(input.data, input.shape, options);
        borrowed_.push_back(tensor.storage());
      } else {
        tensor = torch::empty(input.shape, options);
        if (input.byte_length > 0) std::memcpy(tensor.data_ptr(), input.data, input.byte_length);
      }
      args.emplace_back(std::move(tensor));
    }
    c10::IValue result = module_->forward(std::move(args));
    CollectOutputs(result);
  } catch (const std::exception& error) {
    outputs_.clear();
    SetError(Describe(error));
  } catch (...) {
    outputs_.clear();
    SetError("libtorch threw a non-standard exception");
  }
}

void ForwardWorker::CollectOutputs(const c10::IValue& result) {
  if (result.isTensor()) {
    AddOutput("output__0", result);
  } else if (result.isTuple()) {
    const auto& elements = result.toTupleRef().elements();
    for (size_t i = 0; i < elements.size(); i++) AddOutput("output__" + std::to_string(i), elements[i]);
  } else if (result.isList()) {
    const auto list = result.toList();
    for (size_t i = 0; i < list.size(); i++) AddOutput("output__" + std::to_string(i), list.get(i));
  } else if (result.isGenericDict()) {
    for (const auto& entry : result.toGenericDict()) {
      if (!entry.key().isString())
        throw std::runtime_error("forward returned a dict keyed by " + entry.key().tagKind() +
                                 "; output names need str keys");
      AddOutput(entry.key().toStringRef(), entry.value());
    }
  } else {
    throw std::runtime_error("forward returned a " + result.tagKind() +
                             "; ferry maps a tensor, or a tuple, list or dict of tensors, to outputs");
  }
  if (outputs_.size() > kMaxTensors)
    throw std::runtime_error("forward returned " + std::to_string(outputs_.size()) +
                             " outputs, over the limit of " + std::to_string(kMaxTensors));
}

void ForwardWorker::AddOutput(std::string name, const c10::IValue& value) {
  if (!value.isTensor())
    throw std::runtime_error("output " + name + " is a " + value.tagKind() + ", not a tensor");
  const at::Tensor& tensor = value.toTensor();
  if (tensor.layout() != at::kStrided || !tensor.device().is_cpu())
    throw std::runtime_error("output " + name + " is not a dense CPU tensor");
  if (!DtypeName(tensor.scalar_type()))
    throw std::runtime_error("output " + name + " has dtype " + std::string(c10::toString(tensor.scalar_type())) +
                             ", which ferry cannot carry");
  outputs_.push_back({std::move(name), tensor.contiguous()});
}

void ForwardWorker::OnOK() {
  Napi::Env env = Env();
  Napi::Array result = Napi::Array::New(env, outputs_.size());
  for (size_t i = 0; i < outputs_.size(); i++) {
    const at::Tensor& tensor = outputs_[i].tensor;
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", outputs_[i].name);
    out.Set("dtype", DtypeName(tensor.scalar_type()));
    Napi::Array shape = Napi::Array::New(env, tensor.dim());
    for (int64_t k = 0; k < tensor.dim(); k++) shape.Set(static_cast<uint32_t>(k), static_cast<double>(tensor.size(k)));
    out.Set("shape", shape);
    const size_t bytes = tensor.numel() * tensor.element_size();
    auto* data = static_cast<uint8_t*>(tensor.data_ptr());
    const c10::Storage& storage = tensor.storage();
    // Hand libtorch's memory to JS without a copy only when this output is its sole user: not a
    // module parameter, not another output, not a view of a request buffer (from_blob: no context).
    const bool exclusive = storage.use_count() == 1 && storage.data_ptr().get_context() != nullptr;
    if (bytes == 0) {
      out.Set("data", Napi::Buffer<uint8_t>::New(env, 0));
    } else if (exclusive) {
      auto* holder = new at::Tensor(tensor);
      out.Set("data", Napi::Buffer<uint8_t>::New(
                          env, data, bytes, [](Napi::Env, uint8_t*, at::Tensor* held) { delete held; }, holder));
    } else {
      out.Set("data", Napi::Buffer<uint8_t>::Copy(env, data, bytes));
    }
    result.Set(static_cast<uint32_t>(i), out);
  }
  ReleaseInputs();
  deferred_.Resolve(result);
}

void ForwardWorker::OnError(const Napi::Error& error) {
  ReleaseInputs();
  deferred_.Reject(error.Value());
}

void ForwardWorker::ReleaseInputs() {
  outputs_.clear();
  // A model that stored an input in an attribute still points into the request buffer: keep that
  // buffer alive for good (a leak) rather than let libtorch read freed memory later.
  for (const c10::Storage& storage : borrowed_)
    if (storage.use_count() > 1) {
      keep_alive_.SuppressDestruct();
      break;
    }
  borrowed_.clear();
}

}  // namespace ferry
