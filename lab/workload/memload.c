/*
 * memload - test workload for CRIU live migration.
 *
 * Keeps N MiB of self-describing, incompressible memory resident, optionally
 * rewrites it at D MiB/s, prints a tick line every T ms, and on SIGUSR1
 * checksums and verifies every page.  Works as a plain process and as PID 1
 * in a container.  Deliberately CRIU-friendly: single thread, one anonymous
 * mmap, plain nanosleep loop, signal handlers that only set flags.
 *
 * Page layout (4096 bytes): u64 page index, u64 generation, then 510 u64
 * words from splitmix64 seeded by (seed, index, generation).  Any page can
 * therefore be verified on its own.
 *
 * Output (stdout, one write(2) per line):
 *   start pid=<pid> mib=<N> dirty=<D> tick_ms=<T>      (after initial fill)
 *   tick <n> <realtime_us>                             (n = 1, 2, 3, ...)
 *   check <n> sum=<16 hex> pages=<count> bad=<count>   (on SIGUSR1)
 *   exit <n>                                           (on SIGTERM/SIGINT)
 * where <n> in check/exit is the number of the last tick printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE      4096u
#define WORDS     (PAGE / 8u)          /* u64 words per page, 2 are header */
#define MS        1000000LL            /* ns per ms */
#define DIRTY_NS  (10 * MS)            /* dirtying quantum */
#define MAX_SLEEP (10 * MS)            /* longest single sleep */

static volatile sig_atomic_t g_usr1, g_term;
static uint64_t *g_mem;                /* the one and only allocation */
static uint64_t g_pages, g_seedkey;

static void on_usr1(int sig) { (void)sig; g_usr1 = 1; }
static void on_term(int sig) { (void)sig; g_term = 1; }

/* splitmix64 finaliser: a good 64-bit bijective mixer. */
static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Initial PRNG state for a page, derived from (seed, index, generation). */
static inline uint64_t page_key(uint64_t idx, uint64_t gen)
{
    return mix64(mix64(g_seedkey ^ idx) ^ gen);
}

/* Write a complete page: header + splitmix64 stream. */
static void fill_page(uint64_t idx, uint64_t gen)
{
    uint64_t *p = g_mem + idx * WORDS, s = page_key(idx, gen);
    p[0] = idx;
    p[1] = gen;
    for (unsigned i = 2; i < WORDS; i++)
        p[i] = mix64(s += 0x9e3779b97f4a7c15ULL);
}

/*
 * Verify one page against its own header and fold it into the checksum.
 * The checksum is FNV-1a applied to 64-bit words instead of bytes (same
 * xor-then-multiply structure, 8x fewer steps), in address order.
 */
static int check_page(uint64_t idx, uint64_t *h)
{
    const uint64_t *p = g_mem + idx * WORDS;
    uint64_t s = page_key(idx, p[1]), hh = *h;
    int bad = p[0] != idx;
    for (unsigned i = 0; i < WORDS; i++) {
        if (i >= 2 && p[i] != mix64(s += 0x9e3779b97f4a7c15ULL))
            bad = 1;
        hh = (hh ^ p[i]) * 0x100000001b3ULL;
    }
    *h = hh;
    return bad;
}

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Format a line and write it with write(2); stdout stays unbuffered. */
__attribute__((format(printf, 1, 2)))
static void out(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    for (char *p = buf; n > 0;) {
        ssize_t w = write(STDOUT_FILENO, p, (size_t)n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;                    /* reader gone: keep running anyway */
        p += w;
        n -= (int)w;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: memload [--mib N] [--dirty MIB_PER_S] [--tick-ms T] [--seed S]\n"
               "  --mib N      resident memory in MiB (default 16, 0 allowed)\n"
               "  --dirty D    MiB/s of pages to rewrite (default 0, fractional ok)\n"
               "  --tick-ms T  tick line period in ms (default 100, >= 1)\n"
               "  --seed S     PRNG seed (default 1)\n"
               "signals: SIGUSR1 = checksum+verify, SIGTERM/SIGINT = exit\n");
}

/* Strict unsigned parse; returns 0 on success. */
static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    *v = strtoull(s, &end, 0);
    return (errno || *end) ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "mib", required_argument, 0, 'm' },
        { "dirty", required_argument, 0, 'd' },
        { "tick-ms", required_argument, 0, 't' },
        { "seed", required_argument, 0, 's' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    uint64_t mib = 16, tick_ms = 100, seed = 1;
    double dirty = 0;
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': if (parse_u64(optarg, &mib) || mib > (1u << 20)) goto bad; break;
        case 't': if (parse_u64(optarg, &tick_ms) || tick_ms < 1 || tick_ms > 86400000) goto bad; break;
        case 's': if (parse_u64(optarg, &seed)) goto bad; break;
        case 'd':
            errno = 0;
            dirty = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(dirty >= 0 && dirty <= 1e6))
                goto bad;
            break;
        case 'h': usage(stdout); return 0;
        default: goto bad;
        }
    }
    if (optind != argc) {
bad:
        usage(stderr);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    g_pages = mib * (1024 * 1024 / PAGE);
    g_seedkey = mix64(seed);
    if (g_pages) {
        size_t len = (size_t)(g_pages * PAGE);
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            perror("memload: mmap");
            return 1;
        }
        /* Keep 4 KiB PTEs: with THP one write would mark 2 MiB soft-dirty,
         * inflating the dirty set CRIU pre-dumps see. Failure is harmless. */
        madvise(m, len, MADV_NOHUGEPAGE);
        g_mem = m;
    }
    for (uint64_t i = 0; i < g_pages; i++)
        fill_page(i, 0);

    out("start pid=%d mib=%" PRIu64 " dirty=%g tick_ms=%" PRIu64 "\n",
        (int)getpid(), mib, dirty, tick_ms);

    const int64_t tick_ns = (int64_t)tick_ms * MS;
    const double pages_per_ns = dirty * (1024.0 * 1024.0 / PAGE) / 1e9;
    uint64_t ticks = 0, cursor = 0;
    double credit = 0;                 /* fractional pages owed */
    int64_t now = now_ns(CLOCK_MONOTONIC);
    int64_t next_tick = now + tick_ns, last_dirty = now;

    while (!g_term) {
        if (g_usr1) {
            g_usr1 = 0;
            uint64_t h = 0xcbf29ce484222325ULL, nbad = 0;
            for (uint64_t i = 0; i < g_pages; i++)
                nbad += check_page(i, &h);
            out("check %" PRIu64 " sum=%016" PRIx64 " pages=%" PRIu64 " bad=%" PRIu64 "\n",
                ticks, h, g_pages, nbad);
        }

        /*
         * Ticks never catch up: if we are late (frozen, checkpointed, slow
         * check) the next tick is scheduled one period from now.  CLOCK_MONOTONIC
         * may also jump backwards after a restore on another host; then the
         * deadline is pulled in so ticks do not stall.
         */
        now = now_ns(CLOCK_MONOTONIC);
        if (now >= next_tick) {
            out("tick %" PRIu64 " %" PRId64 "\n", ++ticks,
                now_ns(CLOCK_REALTIME) / 1000);
            next_tick += tick_ns;
            if (next_tick <= now)
                next_tick = now + tick_ns;
        } else if (next_tick - now > tick_ns) {
            next_tick = now + tick_ns;
        }

        /* Dirty at the configured rate in ~10 ms quanta, carrying fractions.
         * Elapsed time is clamped so a freeze or clock jump causes no burst. */
        if (pages_per_ns > 0 && g_pages && now - last_dirty >= DIRTY_NS) {
            int64_t el = now - last_dirty;
            if (el > 10 * DIRTY_NS)
                el = DIRTY_NS;
            credit += pages_per_ns * (double)el;
            uint64_t n = (uint64_t)credit;
            credit -= (double)n;
            while (n--) {
                fill_page(cursor, g_mem[cursor * WORDS + 1] + 1);
                if (++cursor == g_pages)
                    cursor = 0;
            }
            last_dirty = now;
        } else if (now < last_dirty) {
            last_dirty = now;          /* monotonic clock went backwards */
        }

        /* Sleep until the next tick, but never longer than 10 ms so signals
         * and dirtying are serviced promptly.  EINTR simply ends the sleep. */
        int64_t wait = next_tick - now_ns(CLOCK_MONOTONIC);
        if (wait > MAX_SLEEP)
            wait = MAX_SLEEP;
        if (wait > 0) {
            struct timespec ts = { wait / 1000000000LL, wait % 1000000000LL };
            nanosleep(&ts, NULL);
        }
    }
    out("exit %" PRIu64 "\n", ticks);
    return 0;
}
