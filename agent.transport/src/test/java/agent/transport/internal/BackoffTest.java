package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void delaysAreFullJitterUnderAnExponentialCeilingCappedAtTheMaximum() {
        Backoff b = new Backoff(10);
        for (int attempt = 0; attempt < 12; attempt++) {
            long ceiling = Math.min(10_000, 1000L << attempt);
            long d = b.nextDelayMs();
            assertThat(d).isBetween(0L, ceiling);
        }
        // far past the cap the ceiling stays at the cap and never overflows
        for (int i = 0; i < 100; i++) assertThat(b.nextDelayMs()).isBetween(0L, 10_000L);
    }

    @Test
    void theJitterSpreadsRetries() {
        Backoff b = new Backoff(300);
        for (int i = 0; i < 10; i++) b.nextDelayMs();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) seen.add(b.nextDelayMs());
        assertThat(seen.size()).as("20 delays at the cap are not all alike").isGreaterThan(10);
    }

    @Test
    void aSuccessfulWelcomeResetsTheAttempts() {
        Backoff b = new Backoff(300);
        for (int i = 0; i < 8; i++) b.nextDelayMs();
        b.reset();
        assertThat(b.attempts()).isZero();
        assertThat(b.nextDelayMs()).isBetween(0L, 1000L);
    }
}
