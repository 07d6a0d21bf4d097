// The message of the exception a test expects (shared by the experiments
// tests): fails the test when `body` throws nothing or another type.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace fpsim::experiments::test {

template <class E, class F>
std::string message_of(F&& body) {
  try {
    body();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

}  // namespace fpsim::experiments::test
