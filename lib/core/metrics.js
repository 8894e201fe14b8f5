// Generated from src/core/metrics.ts by scripts/build_js.ts (sha256 3e1417325b0b1fdc4970ea314d3995c96bd5cb1deb774f514a57cfd68b63ab28): do not edit; `deno task build:js` writes it.
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
export class Metrics {
    #requests = new Map();
    #generations = 0;
    #generationFailures = 0;
    #cacheHits = 0;
    #latency = new Array(LATENCY_BUCKETS.length).fill(0);
    #latencySum = 0;
    #latencyCount = 0;
    request(route, status) {
        const key = `route="${route}",status="${status}"`;
        this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    }
    cacheHit() {
        this.#cacheHits++;
    }
    generation(seconds, ok) {
        if (ok)
            this.#generations++;
        else
            this.#generationFailures++;
        for (const [i, bound] of LATENCY_BUCKETS.entries()) {
            if (seconds <= bound)
                this.#latency[i]++;
        }
        this.#latencySum += seconds;
        this.#latencyCount++;
    }
    render() {
        const lines = [
            "# HELP capibara_core_requests_total HTTP requests by route and status.",
            "# TYPE capibara_core_requests_total counter",
            ...[...this.#requests].map((([labels, n]) => `capibara_core_requests_total{${labels}} ${n}`)),
            "# HELP capibara_core_generations_total LLM generations that produced an entry.",
            "# TYPE capibara_core_generations_total counter",
            `capibara_core_generations_total ${this.#generations}`,
            "# HELP capibara_core_generation_failures_total LLM generations that failed.",
            "# TYPE capibara_core_generation_failures_total counter",
            `capibara_core_generation_failures_total ${this.#generationFailures}`,
            "# HELP capibara_core_cache_hits_total /v1/gen requests answered from storage.",
            "# TYPE capibara_core_cache_hits_total counter",
            `capibara_core_cache_hits_total ${this.#cacheHits}`,
            "# HELP capibara_core_llm_latency_seconds Time the generator took, per generation.",
            "# TYPE capibara_core_llm_latency_seconds histogram",
            ...LATENCY_BUCKETS.map(((bound, i) => `capibara_core_llm_latency_seconds_bucket{le="${bound}"} ${this.#latency[i]}`)),
            `capibara_core_llm_latency_seconds_bucket{le="+Inf"} ${this.#latencyCount}`,
            `capibara_core_llm_latency_seconds_sum ${this.#latencySum}`,
            `capibara_core_llm_latency_seconds_count ${this.#latencyCount}`,
        ];
        return lines.join("\n") + "\n";
    }
}
