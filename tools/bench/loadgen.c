/*
 * loadgen.c — the closed-loop load driver behind bin/zkbench and bin/zkload
 * (see loadgen.h for the backend interface and the stdout protocol).
 *
 * Each of N sessions keeps D operations in flight: a completion sends the
 * session's next operation from the completing thread, and the main thread
 * refills windows every millisecond (after errors and at phase starts).  A
 * run is a sequence of phases: set-up (create the nodes the case needs,
 * "node exists" is fine), the measured phase (warm-up, then the window in
 * which completions are recorded), and for `create` a clean-up phase that
 * deletes what was created (unless --keep).
 */
#include "loadgen.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define ZOK_ 0
#define ZNODEEXISTS_ (-110)
#define ZNONODE_ (-101)
#define PATH_MAX_ 160
#define ERR_FLAG 0x80000000u

/* One sample: completion time (µs since the run began) and latency (µs,
 * ERR_FLAG set when the operation failed). */
typedef struct sample {
    uint32_t done_us;
    uint32_t lat_us;
} sample;

typedef struct session session;

struct lg_slot {
    session *sess;
    int64_t t0;
    lg_op op;
    char paths[LG_MULTI_OPS][PATH_MAX_];
    void *backend_data;
    lg_slot *next_free;
};

struct session {
    int id;
    void *handle;
    pthread_mutex_t mu;
    lg_slot *free;          /* free slots (guarded by mu) */
    int inflight;           /* guarded by mu */
    long seq;               /* next operation number in this phase (mu) */
    long quota;             /* operations of this phase; -1 = until stopped */
    long created;           /* create case: operations issued (for clean-up) */
    sample *samples;        /* measured completions (mu) */
    size_t nsamples, capsamples;
};

/* Phases of a run. */
typedef enum phase_kind { PH_SETUP_PARENTS, PH_SETUP_LEAVES, PH_MEASURE, PH_CLEANUP } phase_kind;

static struct {
    const lg_backend *be;
    const char *servers;
    const char *op;
    int sessions, depth, size, children;
    double seconds, warmup;
    long count;
    bool keep, epochs;
    const char *root;
    const char *timeline;
    char *payload;
} opt = {
    .servers = "127.0.0.1:2181", .op = "set", .sessions = 1, .depth = 1, .size = 100,
    .children = 1000, .seconds = 3, .warmup = 0.5, .count = -1, .root = "/zkb",
};

static session *sess;
static int64_t run_t0;                  /* µs, run start */
static atomic_int phase;                /* phase_kind */
static atomic_bool stopping;            /* no new operations in this phase */
static atomic_llong win_start, win_end; /* measured window (µs); 0 = not yet */
static atomic_llong max_epoch;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static char parent_path[3][PATH_MAX_];  /* set-up: /zkb, root, root/kids */
static int nparents;
static char run_tag[32];

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&out_mu);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

void **lg_slot_backend_data(lg_slot *slot) { return &slot->backend_data; }

/* The measured operation kind of number n for the case opt.op. */
static lg_kind case_kind(long n)
{
    const char *o = opt.op;
    if (!strcmp(o, "create")) return LG_CREATE;
    if (!strcmp(o, "set")) return LG_SET;
    if (!strcmp(o, "get")) return LG_GET;
    if (!strcmp(o, "exists")) return LG_EXISTS;
    if (!strcmp(o, "children")) return LG_CHILDREN;
    if (!strcmp(o, "multi")) return LG_MULTI_SET;
    return n % 10 == 0 ? LG_SET : LG_GET;   /* mixed: 90 % reads, 10 % writes */
}

static bool case_known(const char *o)
{
    static const char *known[] = { "create", "set", "get", "exists", "children", "multi", "mixed" };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(o, known[i]))
            return true;
    return false;
}

static bool case_uses(const char *what)
{
    const char *o = opt.op;
    if (!strcmp(what, "session-node"))
        return !strcmp(o, "set") || !strcmp(o, "get") || !strcmp(o, "exists") || !strcmp(o, "mixed");
    if (!strcmp(what, "multi-nodes"))
        return !strcmp(o, "multi");
    return !strcmp(o, "children");
}

/* Fills slot->op with operation number n of session s in the current phase;
 * false when the session has nothing more to send in it. */
static bool next_op(session *s, long n, lg_slot *slot)
{
    lg_op *op = &slot->op;
    memset(op, 0, sizeof *op);
    op->path = slot->paths[0];
    op->data = opt.payload;
    op->data_len = opt.size;
    switch ((phase_kind)atomic_load(&phase)) {
    case PH_SETUP_PARENTS:
        if (s->id != 0 || n >= nparents)
            return false;
        op->kind = LG_CREATE;
        op->data_len = 0;
        snprintf(slot->paths[0], PATH_MAX_, "%s", parent_path[n]);
        return true;
    case PH_SETUP_LEAVES: {
        /* session node, LG_MULTI_OPS multi nodes, then its share of kids */
        long k = n;
        op->kind = LG_CREATE;
        if (case_uses("session-node")) {
            if (k == 0) {
                snprintf(slot->paths[0], PATH_MAX_, "%s/s%d", opt.root, s->id);
                return true;
            }
            k--;
        }
        if (case_uses("multi-nodes")) {
            if (k < LG_MULTI_OPS) {
                snprintf(slot->paths[0], PATH_MAX_, "%s/m%d-%ld", opt.root, s->id, k);
                return true;
            }
            k -= LG_MULTI_OPS;
        }
        if (case_uses("kids")) {
            long kid = s->id + k * opt.sessions;
            if (kid < opt.children) {
                op->data_len = 0;
                snprintf(slot->paths[0], PATH_MAX_, "%s/kids/k%ld", opt.root, kid);
                return true;
            }
        }
        return false;
    }
    case PH_MEASURE:
        if (s->quota >= 0 && n >= s->quota)
            return false;
        op->kind = case_kind(n);
        switch (op->kind) {
        case LG_CREATE:
            snprintf(slot->paths[0], PATH_MAX_, "%s/c%s-%d-%ld", opt.root, run_tag, s->id, n);
            break;
        case LG_CHILDREN:
            snprintf(slot->paths[0], PATH_MAX_, "%s/kids", opt.root);
            break;
        case LG_MULTI_SET:
            op->npaths = LG_MULTI_OPS;
            for (int i = 0; i < LG_MULTI_OPS; i++) {
                snprintf(slot->paths[i], PATH_MAX_, "%s/m%d-%d", opt.root, s->id, i);
                op->paths[i] = slot->paths[i];
            }
            break;
        default:
            snprintf(slot->paths[0], PATH_MAX_, "%s/s%d", opt.root, s->id);
            break;
        }
        return true;
    case PH_CLEANUP:
        if (n >= s->created)
            return false;
        op->kind = LG_DELETE;
        snprintf(slot->paths[0], PATH_MAX_, "%s/c%s-%d-%ld", opt.root, run_tag, s->id, n);
        return true;
    }
    return false;
}

static void push_free(session *s, lg_slot *slot)
{
    slot->next_free = s->free;
    s->free = slot;
}

static void add_sample(session *s, uint32_t done, uint32_t lat)
{
    if (s->nsamples == s->capsamples) {
        size_t cap = s->capsamples ? s->capsamples * 2 : 4096;
        sample *n = realloc(s->samples, cap * sizeof *n);
        if (!n)
            return;   /* out of memory: the sample is dropped */
        s->samples = n;
        s->capsamples = cap;
    }
    s->samples[s->nsamples++] = (sample){ done, lat };
}

/* Takes the next operation of s into slot and sends it; s->mu is held on
 * entry and on return.  Returns false (slot back on the free list) when
 * there is nothing to send or the send failed. */
static bool send_locked(session *s, lg_slot *slot)
{
    if (atomic_load(&stopping) || !next_op(s, s->seq, slot)) {
        push_free(s, slot);
        return false;
    }
    s->seq++;
    s->inflight++;
    slot->t0 = now_us();
    pthread_mutex_unlock(&s->mu);
    int rc = opt.be->issue(s->handle, &slot->op, slot);
    pthread_mutex_lock(&s->mu);
    if (rc != ZOK_) {
        s->inflight--;
        push_free(s, slot);
        return false;
    }
    return true;
}

void lg_complete(lg_slot *slot, int err, int64_t zxid)
{
    session *s = slot->sess;
    int64_t t = now_us();
    int ph = atomic_load(&phase);
    if (opt.epochs && err == ZOK_ && zxid > 0) {
        long long e = zxid >> 32, m = atomic_load(&max_epoch);
        while (e > m && !atomic_compare_exchange_weak(&max_epoch, &m, e))
            ;
        if (e > m)
            out_line("EPOCH %lld %lld\n", e, (long long)t);
    }
    pthread_mutex_lock(&s->mu);
    s->inflight--;
    if (ph == PH_MEASURE) {
        int64_t ws = atomic_load(&win_start), we = atomic_load(&win_end);
        if (ws && t >= ws && (!we || t <= we)) {
            uint32_t lat = (uint32_t)(t - slot->t0 > 0x7fffffff ? 0x7fffffff : t - slot->t0);
            add_sample(s, (uint32_t)(t - run_t0), lat | (err != ZOK_ ? ERR_FLAG : 0));
        }
    }
    if (err != ZOK_ && !(ph != PH_MEASURE && (err == ZNODEEXISTS_ || err == ZNONODE_)))
        push_free(s, slot);   /* retried by the main loop, 1 ms later: no spin on errors */
    else
        send_locked(s, slot);
    pthread_mutex_unlock(&s->mu);
}

/* Sends from every free slot of every session. */
static void refill(void)
{
    for (int i = 0; i < opt.sessions; i++) {
        session *s = &sess[i];
        pthread_mutex_lock(&s->mu);
        while (s->free && !atomic_load(&stopping)) {
            lg_slot *slot = s->free;
            s->free = slot->next_free;
            if (!send_locked(s, slot))
                break;
        }
        pthread_mutex_unlock(&s->mu);
    }
}

/* True when no session has an operation in flight and none has more to
 * send (phase over). */
static bool phase_idle(void)
{
    for (int i = 0; i < opt.sessions; i++) {
        session *s = &sess[i];
        pthread_mutex_lock(&s->mu);
        lg_slot probe;
        probe.sess = s;
        bool more = !atomic_load(&stopping) && next_op(s, s->seq, &probe);
        bool busy = s->inflight > 0 || more;
        pthread_mutex_unlock(&s->mu);
        if (busy)
            return false;
    }
    return true;
}

static int inflight_total(void)
{
    int n = 0;
    for (int i = 0; i < opt.sessions; i++) {
        pthread_mutex_lock(&sess[i].mu);
        n += sess[i].inflight;
        pthread_mutex_unlock(&sess[i].mu);
    }
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Runs one phase to its end.  Unlimited phases (PH_MEASURE in time mode)
 * stop at the end of the window.  Returns false if in-flight operations did
 * not drain within 60 s of the stop. */
static int64_t cpu_start, cpu_stop;
static bool run_phase(phase_kind ph)
{
    for (int i = 0; i < opt.sessions; i++) {
        pthread_mutex_lock(&sess[i].mu);
        sess[i].seq = 0;
        pthread_mutex_unlock(&sess[i].mu);
    }
    atomic_store(&stopping, false);
    atomic_store(&phase, ph);
    bool timed = ph == PH_MEASURE && opt.count < 0;
    int64_t begin = now_us();
    if (ph == PH_MEASURE) {
        int64_t ws = begin + (timed ? (int64_t)(opt.warmup * 1e6) : 0);
        if (!timed) {
            cpu_start = cpu_us();
            atomic_store(&win_start, ws);
            out_line("START %lld\n", (long long)ws);
        }
        for (;;) {
            refill();
            int64_t t = now_us();
            if (timed && !atomic_load(&win_start) && t >= ws) {
                cpu_start = cpu_us();
                atomic_store(&win_start, t);
                out_line("START %lld\n", (long long)t);
            }
            int64_t st = atomic_load(&win_start);
            if (timed && st && t >= st + (int64_t)(opt.seconds * 1e6))
                break;
            if (!timed && phase_idle())
                break;
            sleep_ms(1);
        }
        int64_t t = now_us();
        atomic_store(&win_end, t);
        cpu_stop = cpu_us();
        out_line("STOP %lld\n", (long long)t);
        atomic_store(&stopping, true);
    } else {
        while (!phase_idle()) {
            refill();
            sleep_ms(1);
        }
    }
    int64_t deadline = now_us() + 60000000;
    while (inflight_total() > 0) {
        if (now_us() > deadline) {
            fprintf(stderr, "loadgen: %d operations still in flight 60 s after the stop\n",
                    inflight_total());
            return false;
        }
        sleep_ms(1);
    }
    if (ph == PH_MEASURE)
        for (int i = 0; i < opt.sessions; i++)
            sess[i].created = sess[i].seq;   /* what the clean-up deletes */
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)n);
    return v[i >= n ? n - 1 : i];
}

/* Writes the 100 ms timeline: absolute monotonic ms, ops, errors, p50, p99,
 * max (µs) of the completions in each bin. */
static void write_timeline(sample *all, size_t n)
{
    FILE *f = fopen(opt.timeline, "w");
    if (!f) {
        fprintf(stderr, "loadgen: cannot write %s: %s\n", opt.timeline, strerror(errno));
        return;
    }
    fprintf(f, "# t_ms ops errors p50_us p99_us max_us\n");
    uint32_t *lat = malloc((n ? n : 1) * sizeof *lat);
    size_t i = 0;
    while (lat && i < n) {
        uint32_t bin = all[i].done_us / 100000;
        size_t m = 0, errs = 0;
        for (; i < n && all[i].done_us / 100000 == bin; i++) {
            if (all[i].lat_us & ERR_FLAG)
                errs++;
            lat[m++] = all[i].lat_us & ~ERR_FLAG;
        }
        qsort(lat, m, sizeof *lat, cmp_u32);
        fprintf(f, "%lld %zu %zu %u %u %u\n", (long long)((run_t0 + (int64_t)bin * 100000) / 1000),
                m - errs, errs, pct(lat, m, 0.5), pct(lat, m, 0.99), m ? lat[m - 1] : 0);
    }
    free(lat);
    fclose(f);
}

static int cmp_done(const void *a, const void *b)
{
    uint32_t x = ((const sample *)a)->done_us, y = ((const sample *)b)->done_us;
    return x < y ? -1 : x > y;
}

static void report(void)
{
    size_t n = 0;
    for (int i = 0; i < opt.sessions; i++)
        n += sess[i].nsamples;
    sample *all = malloc((n ? n : 1) * sizeof *all);
    uint32_t *lat = malloc((n ? n : 1) * sizeof *lat);
    if (!all || !lat) {
        fprintf(stderr, "loadgen: out of memory for %zu samples\n", n);
        exit(1);
    }
    size_t k = 0, ok = 0, errs = 0;
    for (int i = 0; i < opt.sessions; i++) {
        memcpy(all + k, sess[i].samples, sess[i].nsamples * sizeof *all);
        k += sess[i].nsamples;
    }
    for (size_t i = 0; i < n; i++) {
        if (all[i].lat_us & ERR_FLAG)
            errs++;
        else
            lat[ok++] = all[i].lat_us;
    }
    if (opt.timeline) {
        qsort(all, n, sizeof *all, cmp_done);
        write_timeline(all, n);
    }
    qsort(lat, ok, sizeof *lat, cmp_u32);
    double secs = (double)(atomic_load(&win_end) - atomic_load(&win_start)) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
    out_line("RESULT {\"client\":\"%s\",\"op\":\"%s\",\"sessions\":%d,\"depth\":%d,\"size\":%d,"
             "\"secs\":%.3f,\"ops\":%zu,\"errors\":%zu,\"ops_per_s\":%.1f,\"p50_us\":%u,"
             "\"p90_us\":%u,\"p99_us\":%u,\"p999_us\":%u,\"max_us\":%u,\"client_cpu_us\":%lld}\n",
             opt.be->name, opt.op, opt.sessions, opt.depth, opt.size, secs, ok, errs,
             (double)ok / secs, pct(lat, ok, 0.5), pct(lat, ok, 0.9), pct(lat, ok, 0.99),
             pct(lat, ok, 0.999), ok ? lat[ok - 1] : 0, (long long)(cpu_stop - cpu_start));
    free(all);
    free(lat);
}

/* The connect string of session i: the host list rotated by i, so that
 * sessions are spread evenly over an ensemble's members (session i starts
 * at host i mod n; the others stay as fallbacks).  Caller frees. */
static char *rotated_hosts(const char *servers, int i)
{
    char *copy = strdup(servers), *save = NULL;
    char *hosts[64];
    int n = 0;
    for (char *h = strtok_r(copy, ",", &save); h && n < 64; h = strtok_r(NULL, ",", &save))
        hosts[n++] = h;
    size_t len = strlen(servers) + 2;
    char *out = calloc(1, len);
    for (int k = 0; out && k < n; k++) {
        if (k)
            strcat(out, ",");
        strcat(out, hosts[(i + k) % n]);
    }
    free(copy);
    return out;
}

static void *close_one(void *arg)
{
    opt.be->close(((session *)arg)->handle);
    return NULL;
}

/* Closes every session, all at once: closing one waits for the server's
 * reply to closeSession (a logged transaction), and one at a time that costs
 * a disk flush per session. */
static void close_all(void)
{
    pthread_t *t = calloc((size_t)opt.sessions, sizeof *t);
    bool *started = calloc((size_t)opt.sessions, sizeof *started);
    for (int i = 0; i < opt.sessions; i++) {
        if (t && started && pthread_create(&t[i], NULL, close_one, &sess[i]) == 0)
            started[i] = true;
        else
            close_one(&sess[i]);
    }
    for (int i = 0; i < opt.sessions; i++)
        if (started && started[i])
            pthread_join(t[i], NULL);
    free(t);
    free(started);
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s [options]\n"
            "  --servers H:P[,H:P...]  connect string (default 127.0.0.1:2181); session i\n"
            "                          starts at host i mod n\n"
            "  --op CASE               set|create|get|exists|children|multi|mixed (default set)\n"
            "  --sessions N            client sessions (default 1)\n"
            "  --depth D               operations in flight per session (default 1)\n"
            "  --size BYTES            value size (default 100)\n"
            "  --seconds S             measured window (default 3)\n"
            "  --warmup S              load before the window (default 0.5)\n"
            "  --count N               instead of a window: N operations in all, all measured\n"
            "  --keep                  create: keep the created znodes (default: delete them)\n"
            "  --root PATH             parent of the benchmark's znodes (default /zkb)\n"
            "  --children N            znodes under ROOT/kids for `children` (default 1000)\n"
            "  --timeline FILE         per-100 ms ops, errors, p50, p99, max of the window\n"
            "  --epochs                print EPOCH lines when a success carries a new zxid epoch\n",
            prog);
}

int lg_main(const lg_backend *backend, int argc, char **argv)
{
    opt.be = backend;
    static struct option longopts[] = {
        { "servers", required_argument, 0, 's' }, { "op", required_argument, 0, 'o' },
        { "sessions", required_argument, 0, 'c' }, { "clients", required_argument, 0, 'c' },
        { "depth", required_argument, 0, 'd' },   { "size", required_argument, 0, 'b' },
        { "seconds", required_argument, 0, 't' }, { "warmup", required_argument, 0, 'w' },
        { "count", required_argument, 0, 'n' },   { "ops", required_argument, 0, 'n' },
        { "keep", no_argument, 0, 'k' },          { "root", required_argument, 0, 'r' },
        { "children", required_argument, 0, 'C' }, { "timeline", required_argument, 0, 'T' },
        { "epochs", no_argument, 0, 'e' },        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': opt.servers = optarg; break;
        case 'o': opt.op = optarg; break;
        case 'c': opt.sessions = atoi(optarg); break;
        case 'd': opt.depth = atoi(optarg); break;
        case 'b': opt.size = atoi(optarg); break;
        case 't': opt.seconds = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'n': opt.count = atol(optarg); break;
        case 'k': opt.keep = true; break;
        case 'r': opt.root = optarg; break;
        case 'C': opt.children = atoi(optarg); break;
        case 'T': opt.timeline = optarg; break;
        case 'e': opt.epochs = true; break;
        case 'h': usage(stdout, argv[0]); return 0;
        default: usage(stderr, argv[0]); return 2;
        }
    }
    if (optind != argc || !case_known(opt.op) || opt.sessions < 1 || opt.sessions > 100000 ||
        opt.depth < 1 || opt.depth > 100000 || opt.size < 0 || opt.size > 1000000 ||
        opt.seconds <= 0 || opt.warmup < 0 || opt.children < 0 || opt.root[0] != '/' ||
        strlen(opt.root) > 80 || (opt.count == 0)) {
        usage(stderr, argv[0]);
        return 2;
    }
    opt.payload = malloc((size_t)opt.size + 1);
    if (!opt.payload)
        return 1;
    memset(opt.payload, 'x', (size_t)opt.size);
    snprintf(run_tag, sizeof run_tag, "%ld", (long)getpid());
    /* the parents: /zkb-like ancestors of root, root, root/kids */
    const char *slash = strchr(opt.root + 1, '/');
    if (slash)
        snprintf(parent_path[nparents++], PATH_MAX_, "%.*s", (int)(slash - opt.root), opt.root);
    snprintf(parent_path[nparents++], PATH_MAX_, "%s", opt.root);
    if (case_uses("kids"))
        snprintf(parent_path[nparents++], PATH_MAX_, "%s/kids", opt.root);

    run_t0 = now_us();
    sess = calloc((size_t)opt.sessions, sizeof *sess);
    if (!sess)
        return 1;
    for (int i = 0; i < opt.sessions; i++) {
        session *s = &sess[i];
        s->id = i;
        pthread_mutex_init(&s->mu, NULL);
        s->quota = -1;
        if (opt.count > 0)
            s->quota = opt.count / opt.sessions + (i < opt.count % opt.sessions);
        for (int k = 0; k < opt.depth; k++) {
            lg_slot *slot = calloc(1, sizeof *slot);
            if (!slot)
                return 1;
            slot->sess = s;
            push_free(s, slot);
        }
        char *hosts = rotated_hosts(opt.servers, i);
        s->handle = hosts ? backend->open(hosts) : NULL;
        free(hosts);
        if (!s->handle)
            return 1;
    }
    for (int i = 0; i < opt.sessions; i++) {
        if (backend->wait(sess[i].handle, 30000) != 0) {
            fprintf(stderr, "loadgen: session %d not connected to %s within 30 s\n", i, opt.servers);
            return 1;
        }
    }
    /* Set-up: session 0 creates the parents (one session's requests are
     * applied in order), then every session its own leaves. */
    if (!run_phase(PH_SETUP_PARENTS) || !run_phase(PH_SETUP_LEAVES) || !run_phase(PH_MEASURE))
        return 1;
    report();
    if (!strcmp(opt.op, "create") && !opt.keep && !run_phase(PH_CLEANUP))
        return 1;
    close_all();
    return 0;
}
