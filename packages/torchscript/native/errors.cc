#include "errors.h"

#include <c10/util/Exception.h>

namespace ferry {

std::string Describe(const std::exception& error) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&error)) return c10->what_without_backtrace();
  return error.what();
}

}  // namespace ferry
