// tandem's raw-socket addon: the VRRP socket (IP protocol 112) and gratuitous ARP / unsolicited neighbour
// advertisements. Node has no raw sockets, no recvmsg with ancillary data (ifindex, TTL, hop limit) and no AF_PACKET,
// so these few system calls live here; everything else (encoding, demultiplexing, policy) is TypeScript.
//
// Built against Node-API through node-addon-api, so one binary works across Node versions (ABI-stable).
// Errors are thrown as JS Errors carrying `code` (the errno name, e.g. 'EPERM'), `errno` and `syscall`.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int kProtoVrrp = 112;
// RFC 3768 §7.1 / RFC 5798 §7.1: adverts carry TTL / hop limit 255 and receivers drop anything else; so does an
// unsolicited NA (RFC 4861 §7.1.2).
constexpr int kTtl = 255;
// IPTOS_PREC_INTERNETCONTROL, what keepalived puts on its adverts.
constexpr int kTos = 0xc0;
// Every drain of the socket is bounded, so a flood cannot starve the event loop (adverts and timers run there).
constexpr int kMaxPerWake = 64;
// The largest VRRP message is 8 + 255 * 16 bytes (v3, IPv6); an IPv4 header adds at most 60.
constexpr size_t kRxBuf = 8192;

Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  const char* name = strerrorname_np(err);
  std::string msg = what + ": " + strerror(err) + " (" + (name ? name : "errno " + std::to_string(err)) + ")";
  if (err == EPERM || err == EACCES) {
    msg += "; raw sockets need CAP_NET_RAW (run as root or grant it with setcap/AmbientCapabilities)";
  }
  Napi::Error e = Napi::Error::New(env, msg);
  e.Value().Set("code", name ? name : "EUNKNOWN");
  e.Value().Set("errno", Napi::Number::New(env, err));
  e.Value().Set("syscall", what);
  return e;
}

// A closed fd on scope exit, so every early throw during setup releases it.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

void SetOpt(Napi::Env env, int fd, int level, int name, const void* v, socklen_t len, const char* what) {
  if (setsockopt(fd, level, name, v, len) < 0) throw ErrnoError(env, std::string("setsockopt(") + what + ")", errno);
}

void SetInt(Napi::Env env, int fd, int level, int name, int v, const char* what) {
  SetOpt(env, fd, level, name, &v, sizeof v, what);
}

unsigned IfIndex(Napi::Env env, const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) throw Napi::TypeError::New(env, "bad interface name: " + ifname);
  unsigned idx = if_nametoindex(ifname.c_str());
  if (idx == 0) throw ErrnoError(env, "if_nametoindex(" + ifname + ")", errno);
  return idx;
}

// Address text → sockaddr. An IPv6 zone (`fe80::1%eth0`) is dropped: the socket is bound to one interface, whose
// index is the scope of every link-local address we use.
sockaddr_storage ParseAddr(Napi::Env env, int family, std::string text, unsigned ifindex, socklen_t* len) {
  sockaddr_storage ss{};
  if (family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, text.c_str(), &sin->sin_addr) != 1) {
      throw Napi::TypeError::New(env, "not an IPv4 address: " + text);
    }
    *len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    auto pct = text.find('%');
    if (pct != std::string::npos) text.resize(pct);
    if (inet_pton(AF_INET6, text.c_str(), &sin6->sin6_addr) != 1) {
      throw Napi::TypeError::New(env, "not an IPv6 address: " + text);
    }
    if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&sin6->sin6_addr)) {
      sin6->sin6_scope_id = ifindex;
    }
    *len = sizeof(sockaddr_in6);
  }
  return ss;
}

std::string AddrText(int af, const void* addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(af, addr, buf, sizeof buf);
  return buf;
}

int FamilyArg(const Napi::Value& v) {
  int f = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
  if (f != 4 && f != 6) throw Napi::TypeError::New(v.Env(), "family must be 4 or 6");
  return f;
}

// The uv_poll handle lives apart from the JS object: libuv frees it in uv_close's callback, which may run after the
// object is gone.
template <class T>
struct PollOf {
  uv_poll_t handle;
  T* owner;
};

// What the two sockets (VrrpSocket, IcmpSocket) share: the fd, a libuv poll on it that calls T::Drain, the JS
// callback it delivers to, and the orderly shutdown of all three.
template <class T>
class PolledSocket : public Napi::ObjectWrap<T> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}
  ~PolledSocket() override { Shutdown(); }

 protected:
  // start(cb) for the socket named `what` (in errors); `resource` names the async context.
  Napi::Value StartPoll(const Napi::CallbackInfo& info, const std::string& what, const char* resource) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, "receive on " + what, EBADF);
    if (poll_) throw Napi::Error::New(env, "already receiving on " + what);
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "start(callback)");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) throw Napi::Error::New(env, "no event loop");
    auto poll = std::make_unique<PollOf<T>>();
    poll->owner = static_cast<T*>(this);
    poll->handle.data = poll.get();
    int r = uv_poll_init(loop, &poll->handle, fd_);
    if (r != 0) throw ErrnoError(env, "uv_poll_init", -r);
    r = uv_poll_start(&poll->handle, UV_READABLE, [](uv_poll_t* h, int status, int) {
      auto* p = static_cast<PollOf<T>*>(h->data);
      if (p->owner) p->owner->Drain(status);
    });
    if (r != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&poll.release()->handle), FreePoll);
      throw ErrnoError(env, "uv_poll_start", -r);
    }
    poll_ = poll.release();
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, resource);
    // While receiving, the JS object must outlive its last reference from JS: the socket calls back into it.
    this->Ref();
    return env.Undefined();
  }

  Napi::Value ClosePoll(const Napi::CallbackInfo& info) {
    if (poll_) this->Unref();
    Shutdown();
    return info.Env().Undefined();
  }

  static void FreePoll(uv_handle_t* h) { delete static_cast<PollOf<T>*>(h->data); }

  void Shutdown() {
    if (poll_) {
      poll_->owner = nullptr;
      // uv_close takes the fd out of epoll at once, so closing the fd right after is safe.
      uv_close(reinterpret_cast<uv_handle_t*>(&poll_->handle), FreePoll);
      poll_ = nullptr;
    }
    // The async context stays until the destructor: close() may run inside a callback made with it.
    callback_.Reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void Deliver(const std::initializer_list<napi_value>& args) {
    if (callback_.IsEmpty()) return;
    try {
      callback_.MakeCallback(this->Value(), args, *context_);
    } catch (const Napi::Error& e) {
      // Nothing in JS is below us to catch it: report it as Node reports any uncaught exception.
      napi_fatal_exception(this->Env(), e.Value());
    }
  }

  int fd_ = -1;
  PollOf<T>* poll_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

class VrrpSocket : public PolledSocket<VrrpSocket> {
  friend class PolledSocket<VrrpSocket>;
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "VrrpSocket",
                       {InstanceMethod<&VrrpSocket::Send>("send"), InstanceMethod<&VrrpSocket::Start>("start"),
                        InstanceMethod<&VrrpSocket::Close>("close"),
                        InstanceAccessor<&VrrpSocket::GetIfIndex>("ifindex")});
  }

  // new VrrpSocket(ifname, family): opens, binds to the interface and joins the VRRP group.
  explicit VrrpSocket(const Napi::CallbackInfo& info) : PolledSocket<VrrpSocket>(info), rx_(kRxBuf) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "ifname must be a string");
    ifname_ = info[0].As<Napi::String>().Utf8Value();
    family_ = FamilyArg(info[1]);
    ifindex_ = IfIndex(env, ifname_);
    const int af = family_ == 4 ? AF_INET : AF_INET6;
    FdGuard fd{socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProtoVrrp)};
    if (fd.fd < 0) throw ErrnoError(env, "socket(SOCK_RAW, 112)", errno);
    // One socket per interface: only this interface's adverts arrive, and ours leave through it.
    SetOpt(env, fd.fd, SOL_SOCKET, SO_BINDTODEVICE, ifname_.c_str(), ifname_.size() + 1, "SO_BINDTODEVICE");
    if (family_ == 4) {
      ip_mreqn join{};
      inet_pton(AF_INET, "224.0.0.18", &join.imr_multiaddr);
      join.imr_ifindex = static_cast<int>(ifindex_);
      // Nothing multicast arrives without the join (measured), even on a raw socket.
      SetOpt(env, fd.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join, "IP_ADD_MEMBERSHIP 224.0.0.18");
      ip_mreqn out{};
      out.imr_ifindex = static_cast<int>(ifindex_);
      SetOpt(env, fd.fd, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out, "IP_MULTICAST_IF");
      // The default multicast TTL is 1, which every VRRP receiver drops (keepalived: "invalid TTL/HL").
      SetInt(env, fd.fd, IPPROTO_IP, IP_MULTICAST_TTL, kTtl, "IP_MULTICAST_TTL");
      SetInt(env, fd.fd, IPPROTO_IP, IP_TTL, kTtl, "IP_TTL");
      SetInt(env, fd.fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
      SetInt(env, fd.fd, IPPROTO_IP, IP_TOS, kTos, "IP_TOS");
      SetInt(env, fd.fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
      SetInt(env, fd.fd, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
    } else {
      ipv6_mreq join{};
      inet_pton(AF_INET6, "ff02::12", &join.ipv6mr_multiaddr);
      join.ipv6mr_interface = ifindex_;
      SetOpt(env, fd.fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &join, sizeof join, "IPV6_JOIN_GROUP ff02::12");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(ifindex_), "IPV6_MULTICAST_IF");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kTtl, "IPV6_MULTICAST_HOPS");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, kTtl, "IPV6_UNICAST_HOPS");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_TCLASS, kTos, "IPV6_TCLASS");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
      // The kernel fills in the v6 checksum with the source actually on the wire and drops bad ones on receipt,
      // as keepalived has it. The codec's own (identical) checksum is subtracted out by the kernel, so both agree.
      SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6, "IPV6_CHECKSUM");
    }
    fd_ = fd.release();
  }

 private:
  Napi::Value GetIfIndex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }

  // send(bytes, dst, src?): one datagram; `src` picks the source address (IP_PKTINFO / IPV6_PKTINFO), which the v3
  // pseudo-header checksum must have been computed with. Returns the bytes sent.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, "send on " + ifname_, EBADF);
    if (!info[0].IsTypedArray() || !info[1].IsString()) throw Napi::TypeError::New(env, "send(bytes, dst, src?)");
    auto data = info[0].As<Napi::Uint8Array>();
    std::string dst = info[1].As<Napi::String>().Utf8Value();
    socklen_t tolen = 0;
    sockaddr_storage to = ParseAddr(env, family_, dst, ifindex_, &tolen);
    iovec iov{data.Data(), data.ByteLength()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = tolen;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    std::string src;
    if (info.Length() > 2 && info[2].IsString()) {
      src = info[2].As<Napi::String>().Utf8Value();
      socklen_t slen = 0;
      sockaddr_storage from = ParseAddr(env, family_, src, ifindex_, &slen);
      msg.msg_control = cbuf;
      cmsghdr* c;
      if (family_ == 4) {
        msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo pi{};
        pi.ipi_ifindex = static_cast<int>(ifindex_);
        pi.ipi_spec_dst = reinterpret_cast<sockaddr_in*>(&from)->sin_addr;
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
      } else {
        msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
        in6_pktinfo pi{};
        pi.ipi6_ifindex = ifindex_;
        pi.ipi6_addr = reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr;
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
      }
    }
    ssize_t n = sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      throw ErrnoError(env, "sendmsg to " + dst + (src.empty() ? "" : " from " + src) + " on " + ifname_, errno);
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // start(cb): delivers every datagram as cb(null, {data, src, dst, ttl, ifindex}) and receive errors as cb(err).
  Napi::Value Start(const Napi::CallbackInfo& info) { return StartPoll(info, ifname_, "TandemVrrpSocket"); }
  Napi::Value Close(const Napi::CallbackInfo& info) { return ClosePoll(info); }

  void Drain(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // A handle on the stack keeps this object alive even if the callback closes the socket and drops it.
    Napi::Object self = Value();
    (void)self;
    if (status < 0) {
      Deliver({ErrnoError(env, "poll on " + ifname_, -status).Value()});
      return;
    }
    for (int i = 0; i < kMaxPerWake && fd_ >= 0; i++) {
      sockaddr_storage from{};
      iovec iov{rx_.data(), rx_.size()};
      alignas(cmsghdr) char cbuf[256];
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof cbuf;
      ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        Deliver({ErrnoError(env, "recvmsg on " + ifname_, errno).Value()});
        return;
      }
      if (msg.msg_flags & MSG_TRUNC) continue;  // cannot be VRRP: larger than the largest advert
      Napi::Object m = Napi::Object::New(env);
      int ttl = -1;
      unsigned ifindex = 0;
      const uint8_t* data = rx_.data();
      size_t len = static_cast<size_t>(n);
      if (family_ == 4) {
        // IPv4 raw sockets deliver the IP header (the kernel guarantees a whole one): the codec wants the VRRP
        // message alone.
        if (len < 20) continue;
        size_t ihl = static_cast<size_t>(data[0] & 0x0f) * 4;
        if (ihl < 20 || ihl > len) continue;
        ttl = data[8];
        m.Set("src", AddrText(AF_INET, data + 12));
        m.Set("dst", AddrText(AF_INET, data + 16));
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != IPPROTO_IP) continue;
          if (c->cmsg_type == IP_TTL) memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
          if (c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ifindex = static_cast<unsigned>(pi.ipi_ifindex);
          }
        }
        data += ihl;
        len -= ihl;
      } else {
        m.Set("src", AddrText(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr));
        m.Set("dst", "::");
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != IPPROTO_IPV6) continue;
          if (c->cmsg_type == IPV6_HOPLIMIT) memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
          if (c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ifindex = pi.ipi6_ifindex;
            m.Set("dst", AddrText(AF_INET6, &pi.ipi6_addr));
          }
        }
      }
      m.Set("data", Napi::Buffer<uint8_t>::Copy(env, data, len));
      m.Set("ttl", Napi::Number::New(env, ttl));
      m.Set("ifindex", Napi::Number::New(env, ifindex));
      Deliver({env.Null(), m});
    }
  }

  std::string ifname_;
  int family_ = 4;
  unsigned ifindex_ = 0;
  std::vector<uint8_t> rx_;
};

// IcmpSocket(family): an ICMP echo socket for the guard's and the ping targets' probes (src/os/icmp.ts). A ping socket
// (SOCK_DGRAM with IPPROTO_ICMP / IPPROTO_ICMPV6, allowed by net.ipv4.ping_group_range) where the kernel permits it,
// else a raw one (CAP_NET_RAW); `kind` says which. A ping socket's kernel sets the echo identifier (to the socket's
// "port") and passes this socket only its own replies; a raw socket sees every ICMP message, so the caller matches
// replies by identifier and payload. send(bytes, dst) sends one ICMP message; start(cb) delivers cb(null, {data,
// src}) with the ICMP message (a raw IPv4 socket's IP header stripped), and receive errors as cb(err).
class IcmpSocket : public PolledSocket<IcmpSocket> {
  friend class PolledSocket<IcmpSocket>;
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "IcmpSocket",
                       {InstanceMethod<&IcmpSocket::Send>("send"), InstanceMethod<&IcmpSocket::Start>("start"),
                        InstanceMethod<&IcmpSocket::Close>("close"),
                        InstanceAccessor<&IcmpSocket::GetKind>("kind")});
  }

  explicit IcmpSocket(const Napi::CallbackInfo& info) : PolledSocket<IcmpSocket>(info), rx_(kRxBuf) {
    Napi::Env env = info.Env();
    family_ = FamilyArg(info[0]);
    const int af = family_ == 4 ? AF_INET : AF_INET6;
    const int proto = family_ == 4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
    FdGuard fd{socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto)};
    if (fd.fd < 0) {
      if (errno != EACCES && errno != EPERM) throw ErrnoError(env, "socket(SOCK_DGRAM, ICMP)", errno);
      fd.fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
      if (fd.fd < 0) throw ErrnoError(env, "socket(SOCK_RAW, ICMP) (no ping socket: net.ipv4.ping_group_range)", errno);
      raw_ = true;
    }
    fd_ = fd.release();
  }

 private:
  Napi::Value GetKind(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), raw_ ? "raw" : "dgram"); }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw ErrnoError(env, "send on an ICMP socket", EBADF);
    if (!info[0].IsTypedArray() || !info[1].IsString()) throw Napi::TypeError::New(env, "send(bytes, dst)");
    auto data = info[0].As<Napi::Uint8Array>();
    std::string dst = info[1].As<Napi::String>().Utf8Value();
    socklen_t tolen = 0;
    sockaddr_storage to = ParseAddr(env, family_, dst, 0, &tolen);
    ssize_t n = sendto(fd_, data.Data(), data.ByteLength(), MSG_DONTWAIT | MSG_NOSIGNAL,
                       reinterpret_cast<sockaddr*>(&to), tolen);
    if (n < 0) throw ErrnoError(env, "sendto (ICMP echo) to " + dst, errno);
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Start(const Napi::CallbackInfo& info) { return StartPoll(info, "an ICMP socket", "TandemIcmpSocket"); }
  Napi::Value Close(const Napi::CallbackInfo& info) { return ClosePoll(info); }

  void Drain(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Object self = Value();
    (void)self;
    if (status < 0) {
      Deliver({ErrnoError(env, "poll on an ICMP socket", -status).Value()});
      return;
    }
    for (int i = 0; i < kMaxPerWake && fd_ >= 0; i++) {
      sockaddr_storage from{};
      socklen_t fromlen = sizeof from;
      ssize_t n = recvfrom(fd_, rx_.data(), rx_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        Deliver({ErrnoError(env, "recvfrom on an ICMP socket", errno).Value()});
        return;
      }
      const uint8_t* data = rx_.data();
      size_t len = static_cast<size_t>(n);
      std::string src;
      if (family_ == 4) {
        src = AddrText(AF_INET, &reinterpret_cast<sockaddr_in*>(&from)->sin_addr);
        if (raw_) {
          if (len < 20) continue;
          size_t ihl = static_cast<size_t>(data[0] & 0x0f) * 4;
          if (ihl < 20 || ihl > len) continue;
          data += ihl;
          len -= ihl;
        }
      } else {
        src = AddrText(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr);
      }
      Napi::Object m = Napi::Object::New(env);
      m.Set("data", Napi::Buffer<uint8_t>::Copy(env, data, len));
      m.Set("src", src);
      Deliver({env.Null(), m});
    }
  }

  int family_ = 4;
  bool raw_ = false;
  std::vector<uint8_t> rx_;
};

// announce(ifname, ipv4[], ipv6[], repeat): gratuitous ARP for each IPv4 address and an unsolicited neighbour
// advertisement for each IPv6 one, `repeat` rounds back to back. Returns { arp, na }: packets sent.
Napi::Value Announce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "announce(ifname, ipv4[], ipv6[], repeat)");
  }
  std::string ifname = info[0].As<Napi::String>().Utf8Value();
  unsigned ifindex = IfIndex(env, ifname);
  int repeat = info[3].As<Napi::Number>().Int32Value();
  if (repeat < 0 || repeat > 100) throw Napi::RangeError::New(env, "repeat must be 0..100");
  auto parse = [&](Napi::Array list, int family) {
    std::vector<sockaddr_storage> out;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      if (!v.IsString()) throw Napi::TypeError::New(env, "addresses must be strings");
      socklen_t len = 0;
      out.push_back(ParseAddr(env, family, v.As<Napi::String>().Utf8Value(), ifindex, &len));
    }
    return out;
  };
  auto v4 = parse(info[1].As<Napi::Array>(), 4);
  auto v6 = parse(info[2].As<Napi::Array>(), 6);
  uint32_t arp = 0, na = 0;
  uint8_t mac[ETH_ALEN] = {0};
  // Protocol 0: a send-only packet socket, so no ARP traffic is queued to it while it is open.
  FdGuard pk{v4.empty() && v6.empty() ? -1 : socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (!v4.empty() || !v6.empty()) {
    if (pk.fd < 0) throw ErrnoError(env, "socket(AF_PACKET)", errno);
    ifreq ifr{};
    memcpy(ifr.ifr_name, ifname.c_str(), ifname.size() + 1);
    if (ioctl(pk.fd, SIOCGIFHWADDR, &ifr) < 0) throw ErrnoError(env, "SIOCGIFHWADDR " + ifname, errno);
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
      throw Napi::Error::New(env, ifname + " is not an Ethernet interface: cannot announce addresses on it");
    }
    memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
  }

  if (!v4.empty()) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = static_cast<int>(ifindex);
    to.sll_halen = ETH_ALEN;
    memset(to.sll_addr, 0xff, ETH_ALEN);
    for (int r = 0; r < repeat; r++) {
      for (const auto& a : v4) {
        // An ARP request with sender = target = the address (RFC 5227 §3 announcement): Linux updates an existing
        // neighbour entry from it even with arp_accept=0, and every common OS accepts it.
        ether_arp p{};
        p.arp_hrd = htons(ARPHRD_ETHER);
        p.arp_pro = htons(ETH_P_IP);
        p.arp_hln = ETH_ALEN;
        p.arp_pln = 4;
        p.arp_op = htons(ARPOP_REQUEST);
        memcpy(p.arp_sha, mac, ETH_ALEN);
        memcpy(p.arp_spa, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, 4);
        memcpy(p.arp_tpa, &reinterpret_cast<const sockaddr_in*>(&a)->sin_addr, 4);
        if (sendto(pk.fd, &p, sizeof p, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
          throw ErrnoError(env, "sendto (gratuitous ARP) on " + ifname, errno);
        }
        arp++;
      }
    }
  }

  if (!v6.empty()) {
    FdGuard fd{socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6)};
    if (fd.fd < 0) throw ErrnoError(env, "socket(SOCK_RAW, ICMPv6)", errno);
    SetOpt(env, fd.fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size() + 1, "SO_BINDTODEVICE");
    SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(ifindex), "IPV6_MULTICAST_IF");
    // RFC 4861 §7.1.2: receivers drop neighbour discovery with a hop limit other than 255.
    SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kTtl, "IPV6_MULTICAST_HOPS");
    SetInt(env, fd.fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
    to.sin6_scope_id = ifindex;
    for (int r = 0; r < repeat; r++) {
      for (const auto& a : v6) {
        // RFC 4861 §4.4/§7.2.6: solicited flag off (multicast), router flag off, override on so receivers replace
        // the old link-layer address, with a Target Link-Layer Address option. The source is left to the kernel
        // (the link-local address, as keepalived does) and so is the ICMPv6 checksum.
        struct {
          nd_neighbor_advert na;
          nd_opt_hdr opt;
          uint8_t mac[ETH_ALEN];
        } __attribute__((packed)) p{};
        p.na.nd_na_type = ND_NEIGHBOR_ADVERT;
        p.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
        p.na.nd_na_target = reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr;
        p.opt.nd_opt_type = ND_OPT_TARGET_LINKADDR;
        p.opt.nd_opt_len = 1;  // in units of 8 bytes
        memcpy(p.mac, mac, ETH_ALEN);
        if (sendto(fd.fd, &p, sizeof p, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
          throw ErrnoError(env, "sendto (unsolicited NA) on " + ifname, errno);
        }
        na++;
      }
    }
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("arp", arp);
  r.Set("na", na);
  return r;
}


// address(op, ifname, family, addr, prefix, label): adds ("add") or removes ("del") one address over rtnetlink and
// waits for the kernel's answer. Returns true when something changed, false when the address already was (add) or
// was not (del) there. Spawning `ip` costs about 10 ms; this costs well under one, and it sits on the takeover path.
Napi::Value Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString() || !info[2].IsNumber() || !info[3].IsString() || !info[4].IsNumber()) {
    throw Napi::TypeError::New(env, "address(op, ifname, family, addr, prefix, label?)");
  }
  std::string op = info[0].As<Napi::String>().Utf8Value();
  std::string ifname = info[1].As<Napi::String>().Utf8Value();
  int family = info[2].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  std::string text = info[3].As<Napi::String>().Utf8Value();
  int prefix = info[4].As<Napi::Number>().Int32Value();
  std::string label = info.Length() > 5 && info[5].IsString() ? info[5].As<Napi::String>().Utf8Value() : "";
  if (op != "add" && op != "del") throw Napi::TypeError::New(env, "op must be add or del");
  if (prefix < 0 || prefix > (family == AF_INET ? 32 : 128)) throw Napi::RangeError::New(env, "bad prefix length");
  if (label.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "label longer than 15 characters");
  unsigned char bytes[16];
  if (inet_pton(family, text.c_str(), bytes) != 1) throw Napi::TypeError::New(env, "not an address: " + text);
  unsigned ifindex = IfIndex(env, ifname);
  size_t alen = family == AF_INET ? 4 : 16;

  struct {
    nlmsghdr nh;
    ifaddrmsg ifa;
    char attrs[256];
  } req;
  memset(&req, 0, sizeof(req));
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  req.nh.nlmsg_type = op == "add" ? RTM_NEWADDR : RTM_DELADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (op == "add" ? NLM_F_CREATE | NLM_F_EXCL : 0);
  req.nh.nlmsg_seq = 1;
  req.ifa.ifa_family = family;
  req.ifa.ifa_prefixlen = prefix;
  req.ifa.ifa_index = ifindex;
  bool linkLocal = family == AF_INET6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  req.ifa.ifa_scope = linkLocal ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  auto put = [&](unsigned short type, const void* data, size_t len) {
    rtattr* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), data, len);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  };
  put(IFA_LOCAL, bytes, alen);
  put(IFA_ADDRESS, bytes, alen);
  if (family == AF_INET && !label.empty()) put(IFA_LABEL, label.c_str(), label.size() + 1);
  if (family == AF_INET6 && op == "add") {
    // No duplicate address detection: a VIP must answer at once, and its uniqueness is VRRP's job.
    uint32_t flags = IFA_F_NODAD;
    put(IFA_FLAGS, &flags, sizeof(flags));
  }

  FdGuard fd{socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
  if (fd.fd < 0) throw ErrnoError(env, "socket(AF_NETLINK)", errno);
  sockaddr_nl kernel;
  memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  timeval tv{2, 0};
  setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (sendto(fd.fd, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    throw ErrnoError(env, "sendto(RTM_" + std::string(op == "add" ? "NEWADDR" : "DELADDR") + ")", errno);
  }
  char buf[4096];
  for (int i = 0; i < 8; i++) {
    ssize_t n = recv(fd.fd, buf, sizeof(buf), 0);
    if (n < 0) throw ErrnoError(env, "recv(netlink)", errno);
    for (nlmsghdr* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
      if (err == 0) return Napi::Boolean::New(env, true);
      if ((op == "add" && err == EEXIST) || (op == "del" && err == EADDRNOTAVAIL)) return Napi::Boolean::New(env, false);
      throw ErrnoError(env, (op == "add" ? "RTM_NEWADDR " : "RTM_DELADDR ") + text + "/" + std::to_string(prefix) + " on " + ifname, err);
    }
  }
  throw Napi::Error::New(env, "no answer from the kernel to an address change");
}

// lock(fd): flock(fd, LOCK_EX | LOCK_NB). True when this process now holds the lock, false when another one does.
// The kernel drops the lock with the last descriptor, so a SIGKILLed daemon never leaves a stale lock behind (a pid
// file alone cannot tell a live owner from a recycled PID).
Napi::Value Lock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "lock(fd)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return Napi::Boolean::New(env, true);
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, "flock", errno);
  }
}

// sd_notify(3) without libsystemd: one datagram on the AF_UNIX socket systemd named in NOTIFY_SOCKET (a path, or
// '@' for the abstract namespace). Node's dgram has no AF_UNIX; spawning systemd-notify would come from another PID
// (NotifyAccess=main rejects it) and costs a process per watchdog ping. Never blocks: MSG_DONTWAIT.
Napi::Value Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(env, "notify(socketPath, message)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string msg = info[1].As<Napi::String>().Utf8Value();
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) throw Napi::RangeError::New(env, "NOTIFY_SOCKET: bad path length");
  memcpy(sa.sun_path, path.data(), path.size());
  if (path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  FdGuard fd{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (fd.fd < 0) throw ErrnoError(env, "socket(AF_UNIX)", errno);
  if (sendto(fd.fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa), len) < 0)
    throw ErrnoError(env, "sendto(NOTIFY_SOCKET " + path + ")", errno);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("notify", Napi::Function::New<Notify>(env, "notify"));
  exports.Set("VrrpSocket", VrrpSocket::Init(env));
  exports.Set("IcmpSocket", IcmpSocket::Init(env));
  exports.Set("announce", Napi::Function::New<Announce>(env, "announce"));
  exports.Set("address", Napi::Function::New<Address>(env, "address"));
  exports.Set("lock", Napi::Function::New<Lock>(env, "lock"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tandem_vrrp, Init)
