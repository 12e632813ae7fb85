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
-- counts, and latency percentiles in microseconds from wrk's histogram.

local reqs = {}
local n = 0
local at = 0
local threads = {}

function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
end

function init(args)
    local path = os.getenv("BENCH_IDS")
    local token = os.getenv("BENCH_TOKEN")
    local purpose = os.getenv("BENCH_PURPOSE") or "credit"
    if not path or not token then
        error("BENCH_IDS and BENCH_TOKEN must be set")
    end
    wrk.method = "POST"
    wrk.path = "/v1/decisions"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer " .. token
    -- Every request is made here, once: the client shares the machine
    -- with the server, and what it spends per request the server loses.
    local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS")) or 1
    local lineno = 0
    for line in io.lines(path) do
        if line ~= "" then
            lineno = lineno + 1
        end
        if line ~= "" and (lineno - 1) % nthreads == thread_index % nthreads then
            n = n + 1
            -- Identifiers are checked by the server: "SCHEME:VALUE" with
            -- no quote or backslash, so they go into JSON as they are.
            reqs[n] = wrk.format(nil, nil, nil,
                '{"purpose":"' .. purpose .. '","subject":"' .. line .. '"}')
        end
    end
    if n == 0 then
        error(path .. ": no identifiers")
    end
end

function request()
    at = at + 1
    if at > n then
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
