// JSON output helpers for the peer's --out lines and stdout summaries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

/** `s` as a JSON string literal, quotes included (UTF-8 passes through, controls escaped). */
std::string json_string(const std::string& s);

/** A finite double as JSON (non-finite values become null, which JSON can represent). */
std::string json_number(double x);

/** {"p50":..,"p90":..,"p99":..,"max":..} in ms (nearest rank), or all null when empty. */
std::string latency_json_ms(std::vector<int64_t> latencies_ns);

int64_t realtime_ns();
