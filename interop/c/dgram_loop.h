/* Driving an ossuary_dgram endpoint over one UDP socket: the loop of ossuary.h's datagram section (send what the
 * endpoint has, wait for a packet or the next deadline, hand over what came). Shared by dgram_client.c and
 * dgram_server.c. Addresses given to the library are the struct sockaddr bytes recvfrom() fills in, as they are. */
#ifndef OSSUARY_EXAMPLE_DGRAM_LOOP_H
#define OSSUARY_EXAMPLE_DGRAM_LOOP_H

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ossuary.h>

#include "args.h"

static uint8_t dgram_packet[65536];

static uint64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Applies --label (the service label: both sides must use the same; `ossuary udp-serve` uses "ossuary-tunnel/1")
 * and --pq (the post-quantum policy; hybrid Initiations need 1400-byte datagrams). */
static int apply_options(ossuary_dgram *ep, const char *label, int pq) {
    int rc = label ? ossuary_dgram_set_service_label(ep, label) : OSSUARY_OK;
    if (rc == OSSUARY_OK && pq != OSSUARY_PQ_OFF) rc = ossuary_dgram_set_max_datagram_size(ep, 1400);
    return rc == OSSUARY_OK ? ossuary_dgram_set_post_quantum(ep, pq) : rc;
}

static int dgram_fail(const char *what, int rc) {
    fprintf(stderr, "%s: %d: %s\n", what, rc, ossuary_last_error());
    return rc;
}

/* Sends every packet the endpoint has queued to the address it names. */
static int dgram_flush(ossuary_dgram *ep, int fd) {
    uint8_t address[OSSUARY_DGRAM_MAX_ADDRESS_BYTES];
    size_t len, address_len;
    int rc;
    while ((rc = ossuary_dgram_poll_transmit(ep, dgram_packet, sizeof dgram_packet, &len, address, sizeof address, &address_len)) == 1) {
        /* A full socket buffer loses the packet, as the network may: the protocol's timers recover. */
        if (sendto(fd, dgram_packet, len, 0, (const struct sockaddr *)address, (socklen_t)address_len) < 0 && errno != EAGAIN && errno != ENOBUFS) {
            perror("sendto");
        }
    }
    return rc < 0 ? dgram_fail("poll_transmit", rc) : 0;
}

/* Sends what the endpoint has, waits up to max_wait_ms for packets or the endpoint's next deadline, whichever comes
 * first, and hands over what came (every packet already queued on the socket) or runs the timers. Then flushes. */
static int dgram_step(ossuary_dgram *ep, int fd, int max_wait_ms) {
    if (dgram_flush(ep, fd) != 0) return -1;
    uint64_t deadline;
    int wait = max_wait_ms;
    if (ossuary_dgram_next_timeout(ep, &deadline) == 1) {
        uint64_t now = now_ms();
        int until = deadline <= now ? 0 : (int)(deadline - now);
        if (until < wait) wait = until;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int ready = poll(&p, 1, wait);
    if (ready < 0 && errno != EINTR) {
        perror("poll");
        return -1;
    }
    if (ready > 0) {
        for (;;) {
            struct sockaddr_storage from;
            socklen_t from_len = sizeof from;
            ssize_t n = recvfrom(fd, dgram_packet, sizeof dgram_packet, MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
            if (n < 0) break;
            int rc = ossuary_dgram_handle_datagram(ep, dgram_packet, (size_t)n, (const uint8_t *)&from, from_len, now_ms());
            if (rc != OSSUARY_OK) return dgram_fail("handle_datagram", rc);
        }
    }
    int rc = ossuary_dgram_handle_timeout(ep, now_ms());
    if (rc != OSSUARY_OK) return dgram_fail("handle_timeout", rc);
    return dgram_flush(ep, fd);
}

#endif
