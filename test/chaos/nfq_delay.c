/*
 * nfq_delay.c — a packet delayer for the chaos test, standing in for
 * `tc netem` (not built into this kernel): it takes the packets an
 * iptables NFQUEUE rule sends to queue QUEUE of the current network
 * namespace and gives each its ACCEPT verdict after DELAY_MS +- JITTER_MS
 * (a random jitter lets later packets overtake earlier ones: reordering),
 * or drops LOSS_PERCENT % of them.  Runs until SIGTERM/SIGINT; the rule
 * uses --queue-bypass, so packets flow again when it is gone.
 *
 *   nfq-delay QUEUE DELAY_MS JITTER_MS LOSS_PERCENT SEED
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 65536

typedef struct held {
    int64_t release_ms;
    uint32_t id;
} held;

static held heap[MAX_HELD];
static int nheld;
static volatile sig_atomic_t stop;
static int delay_ms, jitter_ms, loss_percent;
static uint64_t rng;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t next_rand(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void heap_push(held h)
{
    int i = nheld++;
    while (i > 0 && heap[(i - 1) / 2].release_ms > h.release_ms) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = h;
}

static held heap_pop(void)
{
    held top = heap[0], last = heap[--nheld];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= nheld)
            break;
        if (c + 1 < nheld && heap[c + 1].release_ms < heap[c].release_ms)
            c++;
        if (heap[c].release_ms >= last.release_ms)
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = last;
    return top;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
    (void)msg; (void)data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    if (!ph)
        return 0;
    uint32_t id = ntohl(ph->packet_id);
    if (loss_percent > 0 && (int)(next_rand() % 100) < loss_percent)
        return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
    if (nheld >= MAX_HELD)
        return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
    int64_t d = delay_ms;
    if (jitter_ms > 0)
        d += (int64_t)(next_rand() % (uint64_t)(2 * jitter_ms + 1)) - jitter_ms;
    if (d < 0)
        d = 0;
    heap_push((held){ now_ms() + d, id });
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s QUEUE DELAY_MS JITTER_MS LOSS_PERCENT SEED\n", argv[0]);
        return 2;
    }
    int queue = atoi(argv[1]);
    delay_ms = atoi(argv[2]);
    jitter_ms = atoi(argv[3]);
    loss_percent = atoi(argv[4]);
    rng = strtoull(argv[5], NULL, 10) * 0x2545f4914f6cdd1dull + 1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    struct nfq_handle *h = nfq_open();
    if (!h) {
        perror("nfq_open");
        return 1;
    }
    struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
    if (!qh) {
        perror("nfq_create_queue");
        nfq_close(h);
        return 1;
    }
    nfq_set_mode(qh, NFQNL_COPY_META, 0);
    nfq_set_queue_maxlen(qh, MAX_HELD);
    int fd = nfq_fd(h);
    char buf[65536];
    while (!stop) {
        int timeout = -1;
        if (nheld > 0) {
            int64_t wait = heap[0].release_ms - now_ms();
            timeout = wait < 0 ? 0 : (int)wait;
        }
        struct pollfd pfd = { fd, POLLIN, 0 };
        int r = poll(&pfd, 1, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pfd.revents & POLLIN)) {
            ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0)
                nfq_handle_packet(h, buf, (int)n);
        }
        int64_t t = now_ms();
        while (nheld > 0 && heap[0].release_ms <= t) {
            held x = heap_pop();
            nfq_set_verdict(qh, x.id, NF_ACCEPT, 0, NULL);
        }
    }
    /* Let everything held go before leaving. */
    while (nheld > 0) {
        held x = heap_pop();
        nfq_set_verdict(qh, x.id, NF_ACCEPT, 0, NULL);
    }
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 0;
}
