/* scenarios.vala: the three workloads of amorsize in Vala, with yield
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Three maps whose items differ in size, as real CPU work:
 *
 *  - documents of 100–5000 words: split the text into words and hash each;
 *  - images of 1–20 megapixels (pixels scaled 1:64): a luminance histogram;
 *  - mixed-complexity computation, complexity 10–1000: count the
 *    inversions among that many keys, pair by pair (O(n²)).
 *
 * For each, the program times a plain loop (the expected results), then
 * runs the map with `yield executor.run_async (...)` — the main loop keeps
 * running and counts the progress notifications meanwhile — checks that
 * every item was processed exactly once with the loop's result, and prints
 * the plan and the measured speedup.
 *
 *   scenarios-vala [--quick]
 */

const uint CORPUS_WORDS = 8192;
const uint PIXELS_PER_MP = (1 << 20) / 64;

static uint32 mix32 (uint32 x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* One workload: item sizes drawn from a fixed seed, and the work of one
 * item. work() runs on several threads at once, for different indices: it
 * writes only its own item's result. */
abstract class Scenario : Object {
    public string title;
    public string what;
    public uint32[] sizes;
    public uint64[] results;
    public int[] visits;

    protected Scenario (string title, string what, uint seed, uint n_items,
                        uint32 min_size, uint32 max_size) {
        this.title = title;
        this.what = what;
        var rand = new Rand.with_seed (seed);
        sizes = new uint32[n_items];
        for (var i = 0; i < n_items; i++)
            sizes[i] = (uint32) rand.int_range ((int32) min_size, (int32) max_size + 1);
        results = new uint64[n_items];
        visits = new int[n_items];
    }

    public abstract uint64 compute (uint64 index);

    public bool work (uint64 index) throws Error {
        results[index] = compute (index);
        AtomicInt.inc (ref visits[index]);
        return true;
    }
}

class Documents : Scenario {
    string text;
    uint32[] word_starts;

    public Documents (uint n_items) {
        base ("Documents", "documents of 100–5000 words", 1, n_items, 100, 5000);
        var builder = new StringBuilder ();
        word_starts = new uint32[CORPUS_WORDS + 1];
        for (uint w = 0; w < CORPUS_WORDS; w++) {
            var r = mix32 (w + 1);
            word_starts[w] = (uint32) builder.len;
            for (uint c = 0; c < 2 + r % 9; c++)
                builder.append_c ((char) ('a' + mix32 (r + c) % 26));
            builder.append (r % 8 == 0 ? ". " : " ");
        }
        word_starts[CORPUS_WORDS] = (uint32) builder.len;
        text = builder.str;
    }

    public override uint64 compute (uint64 index) {
        uint first = mix32 ((uint32) index) % (CORPUS_WORDS - 5000);
        unowned uint8[] bytes = text.data;
        var p = word_starts[first];
        var end = word_starts[first + sizes[index]];
        uint64 digest = 0xcbf29ce484222325UL;
        while (p < end) {
            uint32 hash = 2166136261U;
            while (p < end && !((char) bytes[p]).isalpha ())
                p++;
            while (p < end && ((char) bytes[p]).isalpha ())
                hash = (hash ^ ((char) bytes[p++]).tolower ()) * 16777619U;
            digest = (digest ^ hash) * 0x100000001b3UL;
        }
        return digest;
    }
}

class Images : Scenario {
    uint32[] pixels;

    public Images (uint n_items) {
        base ("Images", "images of 1–20 megapixels (pixels scaled 1:64)", 2, n_items, 1, 20);
        pixels = new uint32[20 * PIXELS_PER_MP];
        for (var i = 0; i < pixels.length; i++)
            pixels[i] = mix32 ((uint32) i);
    }

    public override uint64 compute (uint64 index) {
        var n_pixels = sizes[index] * PIXELS_PER_MP;
        var histogram = new uint32[256];
        uint64 checksum = 0;
        for (uint i = 0; i < n_pixels; i++) {
            var px = pixels[i];
            var y = (77 * (px & 0xff) + 150 * ((px >> 8) & 0xff) + 29 * ((px >> 16) & 0xff)) >> 8;
            histogram[y]++;
        }
        foreach (var count in histogram)
            checksum = checksum * 31 + count;
        return checksum;
    }
}

class Mixed : Scenario {
    public Mixed (uint n_items) {
        base ("Mixed complexity", "computations of complexity 10–1000 (O(n²) each)", 3,
              n_items, 10, 1000);
    }

    public override uint64 compute (uint64 index) {
        var n = sizes[index];
        var keys = new uint32[n];
        uint64 inversions = 0;
        for (uint i = 0; i < n; i++)
            keys[i] = mix32 ((uint32) (index * 1000 + i));
        for (uint i = 0; i < n; i++)
            for (uint j = i + 1; j < n; j++)
                if (keys[i] > keys[j])
                    inversions++;
        return (inversions << 10) | n;
    }
}

static void print_plan (Amor.Result plan) {
    print ("  sampled:    %u items, mean %.1f µs, CV %.2f (%s)\n",
           plan.n_samples, plan.mean * 1e6, plan.cv,
           plan.is_heterogeneous ? "heterogeneous" : "not heterogeneous");
    var items = "%s %s".printf (plan.chunk_size.to_string (), plan.chunk_size == 1 ? "item" : "items");
    if (plan.chunk_factor < 1.0)
        print ("  chunk:      %s → %s (×%.2f: the CV is above 0.5)\n",
               plan.base_chunk_size.to_string (), items, plan.chunk_factor);
    else
        print ("  chunk:      %s (not reduced: the CV is 0.5 or less)\n", items);
    print ("  workers:    %u\n", plan.n_workers);
    print ("  reason:     %s\n", plan.reason);
    print ("  estimated:  %.2f×\n", plan.estimated_speedup);
}

static async bool run_scenario (Scenario s) {
    var n_items = s.sizes.length;
    print ("%s: %d %s\n", s.title, n_items, s.what);

    /* The plain loop: the expected results and the time to beat. */
    var expected = new uint64[n_items];
    var timer = new Timer ();
    for (var i = 0; i < n_items; i++)
        expected[i] = s.compute (i);
    timer.stop ();
    var serial = timer.elapsed ();

    /* The map on worker threads; this thread's main loop keeps running. */
    var executor = new Amor.Executor (null);
    var notifications = 0;
    executor.notify["completed"].connect (() => notifications++);
    try {
        yield executor.run_async (n_items, s.work, null);
    } catch (Error e) {
        printerr ("%s: %s\n", s.title, e.message);
        return false;
    }

    for (var i = 0; i < n_items; i++) {
        if (s.visits[i] != 1 || s.results[i] != expected[i]) {
            printerr ("%s: item %d was processed %d times, %s\n", s.title, i, s.visits[i],
                      s.results[i] == expected[i] ? "with the right result" : "with a wrong result");
            return false;
        }
    }
    if (executor.completed != n_items || notifications < 1) {
        printerr ("%s: completed %s of %d items, %d notifications\n", s.title,
                  executor.completed.to_string (), n_items, notifications);
        return false;
    }

    print_plan (executor.result);
    print ("  measured:   %.2f× (loop %.3f s, amorsize %.3f s, sampling included; "
           + "%d progress notifications on the main loop)\n\n",
           serial / executor.elapsed, serial, executor.elapsed, notifications);
    return true;
}

static async bool run_all (bool quick) {
    var scale = quick ? 10 : 1;
    Scenario[] scenarios = {
        new Documents (4000 / scale),
        new Images (2000 / scale),
        new Mixed (4000 / scale),
    };
    foreach (var s in scenarios) {
        if (!yield run_scenario (s))
            return false;
    }
    print ("Every item was processed exactly once, with the results of the loop.\n");
    return true;
}

int main (string[] args) {
    Intl.setlocale ();
    bool quick = args.length == 2 && args[1] == "--quick";
    if (args.length > 2 || (args.length == 2 && !quick)) {
        printerr ("usage: scenarios-vala [--quick]\n");
        return 1;
    }

    var loop = new MainLoop (null, false);
    var ok = false;
    run_all.begin (quick, (obj, res) => {
        ok = run_all.end (res);
        loop.quit ();
    });
    loop.run ();
    return ok ? 0 : 1;
}
