#include "runtime/container/seccomp_listener.hpp"

#include <sys/socket.h>

#include "runtime/util/unix_socket.hpp"
#include "spec/json_write.hpp"

#include <rapidjson/writer.h>

namespace agentrun {

void forward_seccomp_listener(const ListenerTarget& target, int fd) {
  const std::string step = "send the seccomp notify fd to " + target.path;
  UniqueFd sock = connect_unix(target.path, SOCK_STREAM, step);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  spec::write_string(w, "ociVersion", target.oci_version);
  w.Key("fds");
  w.StartArray();
  w.String("seccompFd");
  w.EndArray();
  w.Key("pid");
  w.Int(target.pid);
  spec::write_string(w, "metadata", target.metadata);
  w.Key("state");
  w.RawValue(target.state.c_str(), target.state.size(), rapidjson::kObjectType);
  w.EndObject();
  send_fd(sock.get(), fd, buf.GetString()).or_throw();
}

}  // namespace agentrun
