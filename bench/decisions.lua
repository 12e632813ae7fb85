-- bench/decisions.lua - the wrk script of bench/serve: POST /v1/decisions
-- for a credit decision, cycling through the subject identifiers of a file
-- (one a line), with an inquirer's bearer token.
--
-- Read from the environment (bench/serve sets them):
--   BENCH_IDS      the file of identifiers
--   BENCH_TOKEN    the inquirer token
--   BENCH_PURPOSE  the purpose asked for (default credit)
--   BENCH_WRK_THREADS  wrk's -t, to share the identifiers out
-- Each wrk thread keeps every k-th identifier (k threads), so two threads
-- never ask about the same subject and each holds only its share of the
-- requests. At the end one line
-- "wrk_result key=value ..." gives the figures bench/serve reads: exact
-- counts, and latency percentiles in microseconds from wrk's histogram
-- (which wrk corrects for coordinated omission before done() sees it).
--
-- Requests are made lazily, for the rate to be honest: wrk calls a
-- thread's init just before it starts that thread, and starts the clock
-- it divides the count by only once every thread is started, so whatever
-- the threads started first complete while a later init runs is counted
-- in no time. When init read the whole identifier file and formatted its
-- share of the requests (500,000 a thread for 1,000,000 subjects), thread
-- 1 was answered for that long before the clock started: ~0.5 % too many
-- decisions/s on a 300-s run, several % on the 30-s warm-up. So init only
-- opens the file; request() reads the thread's next identifier and
-- formats its request the first time round, keeps it, and cycles through
-- the kept ones after the file's end. Each request is still formatted
-- once, now within the run (the client shares the machine with the
-- server: what it spends, the server loses, so this counts against the
-- rate, not for it).

local reqs = {}
local n = 0
local at = 0
local threads = {}
local file = nil
local purpose = nil
local nthreads = 1
local lineno = 0

function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
end

-- The next identifier of this thread's share of the file, or nil at its
-- end (the file is then closed).
local function next_id()
    for line in file:lines() do
        if line ~= "" then
            lineno = lineno + 1
            if (lineno - 1) % nthreads == thread_index % nthreads then
                return line
            end
        end
    end
    file:close()
    file = nil
    return nil
end

-- Formats the request for an identifier and keeps it. Identifiers are
-- checked by the server: "SCHEME:VALUE" with no quote or backslash, so
-- they go into JSON as they are.
local function keep(id)
    n = n + 1
    reqs[n] = wrk.format(nil, nil, nil, '{"purpose":"' .. purpose .. '","subject":"' .. id .. '"}')
    return reqs[n]
end

function init(args)
    local token = os.getenv("BENCH_TOKEN")
    local path = os.getenv("BENCH_IDS")
    purpose = os.getenv("BENCH_PURPOSE") or "credit"
    if not path or not token then
        error("BENCH_IDS and BENCH_TOKEN must be set")
    end
    wrk.method = "POST"
    wrk.path = "/v1/decisions"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. token
    nthreads = tonumber(os.getenv("BENCH_WRK_THREADS")) or 1
    local err
    file, err = io.open(path, "r")
    if not file then
        error(err)
    end
    -- The thread's first identifier, so that a share with none fails
    -- here and not in the middle of the run.
    local id = next_id()
    if not id then
        error(path .. ": no identifiers for thread " .. thread_index .. " of " .. nthreads)
    end
    keep(id)
end

function request()
    at = at + 1
    if at > n then
        local id = file and next_id()
        if id then
            return keep(id) -- kept as reqs[at]
        end
        at = 1
    end
    return reqs[at]
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "wrk_result requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d " ..
        "p999_us=%d max_us=%d mean_us=%.1f errors_connect=%d errors_read=%d " ..
        "errors_write=%d errors_status=%d errors_timeout=%d\n",
        summary.requests, summary.duration, summary.bytes, latency:percentile(50),
        latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
        latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
