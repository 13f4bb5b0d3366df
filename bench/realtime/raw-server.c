/*
 * The machine's raw limit for bench/realtime.ts: one epoll loop, one write(2) per subscribed
 * socket per message of a frame built once. It speaks just enough of the WebSocket upgrade
 * and of Pusher (connection_established, subscription_succeeded, pong) for the load
 * generator, and the same stdin/stdout line protocol as bench/realtime/server.ts:
 *
 *   publish <rate> <seconds> <bytes> <channel> <event>  ->  done {"published":[n],...}
 *   stop (or stdin closed)                               ->  exit
 *
 * Compiled at run time (cc -O2) into a temporary directory; never committed as a binary.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define IN_CAP 4096

typedef struct {
  int open;       /* upgraded */
  int subscribed; /* index in subs + 1, 0 = not */
  size_t inlen;
  char in[IN_CAP];
  char *out;
  size_t outlen, outcap;
} conn_t;

static conn_t *conns[MAX_FD];
static int subs[MAX_FD];
static int nsubs;
static int ep;

/* ---- SHA-1 and base64, for Sec-WebSocket-Accept ---------------------------------------- */
static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }
static void sha1(const unsigned char *msg, size_t len, unsigned char out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  size_t total = ((len + 8) / 64 + 1) * 64;
  unsigned char *m = calloc(total, 1);
  memcpy(m, msg, len);
  m[len] = 0x80;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) m[total - 1 - i] = (unsigned char)(bits >> (8 * i));
  for (size_t off = 0; off < total; off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 | (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
      else { f = b ^ c ^ d; k = 0xCA62C1D6; }
      uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d; d = c; c = rol(b, 30); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
  }
  free(m);
  for (int i = 0; i < 5; i++) for (int j = 0; j < 4; j++) out[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}
static void base64(const unsigned char *in, size_t len, char *out) {
  static const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
    out[o++] = t[v >> 18 & 63];
    out[o++] = t[v >> 12 & 63];
    out[o++] = i + 1 < len ? t[v >> 6 & 63] : '=';
    out[o++] = i + 2 < len ? t[v & 63] : '=';
  }
  out[o] = 0;
}

/* ---- connections -------------------------------------------------------------------------- */
static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}
static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void drop(int fd) {
  conn_t *c = conns[fd];
  if (!c) return;
  if (c->subscribed) { /* swap-remove from subs */
    int i = c->subscribed - 1, last = subs[--nsubs];
    subs[i] = last;
    conns[last]->subscribed = i + 1;
  }
  free(c->out);
  free(c);
  conns[fd] = NULL;
  close(fd);
}

/* One write; whatever the kernel does not take waits in c->out for EPOLLOUT. */
static void send_bytes(int fd, const char *buf, size_t len) {
  conn_t *c = conns[fd];
  size_t done = 0;
  if (c->outlen == 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno != EAGAIN) { drop(fd); return; }
    done = n > 0 ? (size_t)n : 0;
    if (done == len) return;
  }
  if (c->outlen + len - done > c->outcap) {
    c->outcap = (c->outlen + len - done) * 2;
    c->out = realloc(c->out, c->outcap);
  }
  memcpy(c->out + c->outlen, buf + done, len - done);
  c->outlen += len - done;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static size_t frame(char *dst, const char *payload, size_t len) {
  size_t h = 0;
  dst[h++] = (char)0x81;
  if (len < 126) dst[h++] = (char)len;
  else { dst[h++] = 126; dst[h++] = (char)(len >> 8); dst[h++] = (char)(len & 255); }
  memcpy(dst + h, payload, len);
  return h + len;
}
static void send_text(int fd, const char *payload) {
  char buf[1024];
  size_t n = frame(buf, payload, strlen(payload));
  send_bytes(fd, buf, n);
}

static void on_client_frame(int fd, int op, char *p, size_t len) {
  char msg[1024];
  if (op == 8) { drop(fd); return; }
  if (op == 9) { char pong[2] = {(char)0x8A, 0}; send_bytes(fd, pong, 2); return; }
  if (op != 1 || len >= sizeof msg) return;
  memcpy(msg, p, len);
  msg[len] = 0;
  if (strstr(msg, "\"pusher:subscribe\"")) {
    char *ch = strstr(msg, "\"channel\":\"");
    char name[256] = "";
    if (ch) { ch += 11; size_t i = 0; while (ch[i] && ch[i] != '"' && i < 255) { name[i] = ch[i]; i++; } name[i] = 0; }
    char reply[512];
    snprintf(reply, sizeof reply, "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"%s\",\"data\":\"{}\"}", name);
    send_text(fd, reply);
    conn_t *c = conns[fd];
    if (c && !c->subscribed) { subs[nsubs++] = fd; c->subscribed = nsubs; }
  } else if (strstr(msg, "\"pusher:ping\"")) {
    send_text(fd, "{\"event\":\"pusher:pong\",\"data\":\"{}\"}");
  }
}

static void on_readable(int fd) {
  conn_t *c = conns[fd];
  for (;;) {
    if (!c) return;
    ssize_t n = read(fd, c->in + c->inlen, IN_CAP - c->inlen);
    if (n == 0 || (n < 0 && errno != EAGAIN)) { drop(fd); return; }
    if (n < 0) return;
    c->inlen += (size_t)n;
    if (!c->open) {
      c->in[c->inlen < IN_CAP ? c->inlen : IN_CAP - 1] = 0;
      char *end = strstr(c->in, "\r\n\r\n");
      if (!end) { if (c->inlen >= IN_CAP - 1) { drop(fd); return; } continue; }
      char *k = strcasestr(c->in, "sec-websocket-key:");
      if (!k) { drop(fd); return; }
      k += 18;
      while (*k == ' ') k++;
      char key[128];
      size_t i = 0;
      while (k[i] && k[i] != '\r' && i < 60) { key[i] = k[i]; i++; }
      memcpy(key + i, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
      unsigned char digest[20];
      char accept[32], resp[256];
      sha1((unsigned char *)key, i + 36, digest);
      base64(digest, 20, accept);
      int rn = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
      send_bytes(fd, resp, (size_t)rn);
      if (!conns[fd]) return;
      send_text(fd, "{\"event\":\"pusher:connection_established\",\"data\":\"{\\\"socket_id\\\":\\\"1.1\\\",\\\"activity_timeout\\\":120}\"}");
      if (!conns[fd]) return;
      size_t used = (size_t)(end + 4 - c->in);
      memmove(c->in, c->in + used, c->inlen - used);
      c->inlen -= used;
      c->open = 1;
    }
    size_t at = 0;
    while (c->inlen - at >= 6) {
      unsigned char *b = (unsigned char *)c->in + at;
      size_t len = b[1] & 0x7f, pos = 2;
      if (len == 126) { len = (size_t)b[2] << 8 | b[3]; pos = 4; }
      else if (len == 127) { drop(fd); return; }
      if (c->inlen - at < pos + 4 + len) break;
      unsigned char *mask = b + pos, *p = b + pos + 4;
      for (size_t j = 0; j < len; j++) p[j] ^= mask[j & 3];
      on_client_frame(fd, b[0] & 0x0f, (char *)p, len);
      if (!conns[fd]) return;
      at += pos + 4 + len;
    }
    memmove(c->in, c->in + at, c->inlen - at);
    c->inlen -= at;
  }
}

static void on_writable(int fd) {
  conn_t *c = conns[fd];
  ssize_t n = write(fd, c->out, c->outlen);
  if (n < 0 && errno != EAGAIN) { drop(fd); return; }
  if (n > 0) { memmove(c->out, c->out + n, c->outlen - (size_t)n); c->outlen -= (size_t)n; }
  if (c->outlen == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
  }
}

/* ---- the publisher ------------------------------------------------------------------------ */
static struct { int active; double rate, seconds, start, late_sum, late_max; long sent, seq; int bytes; char channel[200], event[100]; } pub;

static void publish_one(void) {
  static char data[65536], escaped[140000], payload[140000], buf[140010];
  char head[200];
  int hn = snprintf(head, sizeof head, "{\"t\":%.3f,\"seq\":%ld,\"order\":\"ord_%lx\",\"status\":\"ready_for_pickup\",\"pad\":\"", now_ms(), pub.seq, pub.seq);
  int n = pub.bytes > hn + 2 ? pub.bytes : hn + 2;
  memcpy(data, head, (size_t)hn);
  memset(data + hn, 'x', (size_t)(n - hn - 2));
  memcpy(data + n - 2, "\"}", 2);
  size_t e = 0;
  for (int i = 0; i < n; i++) { if (data[i] == '"' || data[i] == '\\') escaped[e++] = '\\'; escaped[e++] = data[i]; }
  escaped[e] = 0;
  int pn = snprintf(payload, sizeof payload, "{\"event\":\"%s\",\"channel\":\"%s\",\"data\":\"%s\"}", pub.event, pub.channel, escaped);
  size_t fn = frame(buf, payload, (size_t)pn);
  pub.seq++;
  for (int i = nsubs - 1; i >= 0; i--) send_bytes(subs[i], buf, fn); /* backwards: drop() swaps from the end */
}

/* Publishes what is due; returns ms until the next message, or -1 when idle. */
static int publish_due(void) {
  if (!pub.active) return -1;
  double now = mono_ms(), elapsed = now - pub.start, span = pub.seconds * 1000;
  if (elapsed > span) elapsed = span;
  long total = (long)(pub.rate * pub.seconds), due = (long)(pub.rate * elapsed / 1000) + 1; /* message k is due at k / rate */
  if (due > total) due = total;
  for (; pub.sent < due; pub.sent++) {
    double at = mono_ms();
    if (at - pub.start >= span) break; /* a fixed time: what is not out by then is skipped */
    double late = at - (pub.start + pub.sent * 1000.0 / pub.rate);
    pub.late_sum += late;
    if (late > pub.late_max) pub.late_max = late;
    publish_one();
  }
  if (mono_ms() - pub.start >= span) {
    pub.active = 0;
    printf("done {\"published\":[%ld],\"skipped\":%ld,\"seconds\":%.3f,\"lateMs\":{\"mean\":%.3f,\"max\":%.3f}}\n", pub.sent,
           total - pub.sent, (mono_ms() - pub.start) / 1000, pub.sent ? pub.late_sum / pub.sent : 0, pub.late_max);
    fflush(stdout);
    return -1;
  }
  double next = pub.sent < total ? pub.start + pub.sent * 1000.0 / pub.rate : pub.start + span;
  double wait = next - mono_ms();
  return wait <= 0 ? 0 : (int)wait + 1;
}

static void on_stdin(void) {
  static char line[4096];
  static size_t len;
  ssize_t n = read(0, line + len, sizeof line - 1 - len);
  if (n <= 0) exit(0);
  len += (size_t)n;
  line[len] = 0;
  char *nl;
  while ((nl = strchr(line, '\n'))) {
    *nl = 0;
    if (strncmp(line, "publish ", 8) == 0) {
      memset(&pub, 0, sizeof pub);
      if (sscanf(line + 8, "%lf %lf %d %199s %99s", &pub.rate, &pub.seconds, &pub.bytes, pub.channel, pub.event) == 5) {
        pub.active = 1;
        pub.start = mono_ms();
      }
    } else if (strcmp(line, "stop") == 0) exit(0);
    size_t used = (size_t)(nl + 1 - line);
    memmove(line, nl + 1, len - used + 1);
    len -= used;
  }
}

int main(void) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 4096)) { perror("listen"); return 1; }
  socklen_t alen = sizeof addr;
  getsockname(ls, (struct sockaddr *)&addr, &alen);
  ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  ev.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  printf("ready {\"port\":%d,\"pid\":%d}\n", ntohs(addr.sin_port), getpid());
  fflush(stdout);
  struct epoll_event events[512];
  for (;;) {
    int timeout = publish_due();
    int n = epoll_wait(ep, events, 512, timeout);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == ls) {
        int cfd;
        while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (cfd >= MAX_FD) { close(cfd); continue; }
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[cfd] = calloc(1, sizeof(conn_t));
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
        }
      } else if (fd == 0) on_stdin();
      else {
        if ((events[i].events & EPOLLOUT) && conns[fd]) on_writable(fd);
        if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && conns[fd]) on_readable(fd);
      }
    }
  }
}
