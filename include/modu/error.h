// Errors as values.
//
// Every failure that can reach a client has a stable `ErrorCode` whose wire name (see
// `error_code_name`) is part of the protocol (docs/protocol.md). `Result<T>` carries
// either a value or an `Error`; functions that cross module boundaries return one and
// never throw for expected failures.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace modu {

enum class ErrorCode : int {
  kBadJson,
  kBadRequest,
  kUnknownOp,
  kUnauthenticated,
  kAlreadyAuthenticated,
  kInvalidCredentials,
  kSessionRevoked,
  kHandleTaken,
  kInvalidHandle,
  kWeakPassword,
  kUserNotFound,
  kChatNotFound,
  kMessageNotFound,
  kForbidden,
  kDuplicateClientId,
  kDeleteWindowExpired,
  kTooLarge,
  kRateLimited,
  kInvalidState,
  kUnavailable,
  kInternal,
  // Open chats and communities.
  kRoomNotFound,
  kBanned,
  kRoomFull,
  kWrongPasscode,
  kConditionsNotMet,
  kMembershipCap,
  kApplicationNotFound,
  kApplicationExpired,
  kSlowMode,
  kMemberNotFound,
  kCount_,  // number of codes; not a code
};

inline constexpr int kErrorCodeCount = static_cast<int>(ErrorCode::kCount_);

// The stable wire name, e.g. "chat_not_found".
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}    // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// A result with no value.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace modu
