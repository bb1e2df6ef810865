#include "dtype.h"

#include <array>
#include <utility>

namespace ferry {
namespace {

// Every dtype the server speaks that libtorch 1.13 has (it has no U16/U32/U64 tensors).
constexpr std::array<std::pair<const char*, c10::ScalarType>, 10> kDtypes{{
    {"BOOL", c10::ScalarType::Bool},
    {"U8", c10::ScalarType::Byte},
    {"I8", c10::ScalarType::Char},
    {"I16", c10::ScalarType::Short},
    {"I32", c10::ScalarType::Int},
    {"I64", c10::ScalarType::Long},
    {"F16", c10::ScalarType::Half},
    {"BF16", c10::ScalarType::BFloat16},
    {"F32", c10::ScalarType::Float},
    {"F64", c10::ScalarType::Double},
}};

}  // namespace

std::optional<c10::ScalarType> ScalarTypeOf(const std::string& dtype) {
  for (const auto& [name, type] : kDtypes)
    if (dtype == name) return type;
  return std::nullopt;
}

const char* DtypeName(c10::ScalarType type) {
  for (const auto& [name, t] : kDtypes)
    if (t == type) return name;
  return nullptr;
}

}  // namespace ferry
