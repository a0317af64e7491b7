// A configuration value read once: the text as the file wrote it and its typed form.
// The enums a value can take live here so that the schema, the rule and the milter
// settings share them.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "policy/domain.h"
#include "policy/tls.h"

namespace tlsgate::policy {

enum class Action { reject, tempfail };
enum class Mode { enforce, monitor };
// Which MTA calls the milter: it changes how certificate macros are read (Postfix
// reports only certificates it verified; Sendmail says so in {verify}) and whether
// an AUTH can outlive STARTTLS (Sendmail keeps it). automatic: recognised per session.
enum class Mta { automatic, postfix, sendmail };
enum class Facility {
  mail,
  daemon,
  user,
  auth,
  local0,
  local1,
  local2,
  local3,
  local4,
  local5,
  local6,
  local7
};

struct Value {
  std::string text;  // as written (empty: none)
  // bool (boolean), unsigned (count, file mode), a resolved path, a TLS version,
  // the enums above, a cipher set, a list of domain patterns; monostate where the
  // text is the value (text, user and group names, socket, netblock list) or there
  // is none.
  std::variant<std::monostate, bool, unsigned, std::string, TlsVersion, Action, Mode, Mta, Facility,
               std::shared_ptr<const CipherSet>, std::shared_ptr<const DomainList>>
      typed;
};

}  // namespace tlsgate::policy
