// libtorch's exceptions as text for a JS Error.
#pragma once

#include <exception>
#include <string>

namespace ferry {

// The message of an exception libtorch threw, without the C++ backtrace c10::Error appends to what().
// The JS side (src/torch-message.ts) reduces it to the one line that names the cause.
std::string Describe(const std::exception& error);

}  // namespace ferry
