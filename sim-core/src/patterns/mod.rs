//! Resilience patterns as pure state machines (breakers, retries, budgets,
//! bulkheads, rate and concurrency limits). Not wired into the engine yet.
