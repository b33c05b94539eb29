package server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

class SummaryLogTest {
    @Test
    void aFloodFromManySourcesCostsAFewLinesAndOneSummary() {
        List<String> lines = new CopyOnWriteArrayList<>();
        Logger log = Logger.getAnonymousLogger();
        log.setUseParentHandlers(false);
        log.addHandler(new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        });
        SummaryLog summary = new SummaryLog(log, Level.WARNING, "refused authentication");
        for (int round = 0; round < 3; round++) {
            for (int source = 0; source < 100; source++) summary.note("10.0.0." + source, "wrong token");
        }
        assertThat(lines).as("the first of each of the first 20 sources").hasSize(20);
        assertThat(lines.get(0)).isEqualTo("refused authentication from 10.0.0.0: wrong token (more from this source are summed up once a minute)");
        summary.flush();
        assertThat(lines).hasSize(21);
        assertThat(lines.get(20)).startsWith("refused authentication: 280 more since the last summary: 10.0.0.0 ×2 (wrong token)")
            .endsWith(", and 90 more sources");
        summary.flush();
        assertThat(lines).as("nothing since: no line").hasSize(21);
        summary.note("10.0.0.0", "wrong token");
        assertThat(lines).as("a new period logs the first at once again").hasSize(22);
    }
}
