// ferry dtype names (the safetensors names, packages/formats/src/tensor/dtype.ts) <-> libtorch scalar types.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace ferry {

// The scalar type of a ferry dtype name the addon carries (BOOL, U8, I8, I16, I32, I64, F16, BF16,
// F32, F64), or nullopt for any other name.
std::optional<c10::ScalarType> ScalarTypeOf(const std::string& dtype);

// The ferry name of a scalar type, or nullptr when ferry has no name for it (complex, quantized).
const char* DtypeName(c10::ScalarType type);

}  // namespace ferry
