package plugin.backup.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import agent.api.CommandContext;

/**
 * Live progress of a tar run, from the listing tar writes to its {@code --index-file} as it goes (one line per entry,
 * with its size): a thread reads what was appended every half second and reports files and bytes done, at most once a
 * second, against the totals a first pass found.
 */
final class TarProgress implements AutoCloseable {
    private static final long POLL_MS = 500;
    private static final long REPORT_NANOS = 1_000_000_000L;

    private final CommandContext ctx;
    private final Path index;
    private final java.util.concurrent.Future<Listing.Totals> totals;
    private final String verb;
    private final Listing.Totals done = new Listing.Totals();
    private final Thread thread;
    private volatile boolean closed;
    private long offset;
    private final StringBuilder partial = new StringBuilder();

    /**
     * @param ctx   where progress goes
     * @param index the listing tar appends to
     * @param totals what the whole run covers, once known (a first pass may still be counting)
     * @param verb   what is being done, e.g. {@code archived}
     */
    TarProgress(CommandContext ctx, Path index, java.util.concurrent.Future<Listing.Totals> totals, String verb) {
        this.ctx = ctx;
        this.index = index;
        this.totals = totals;
        this.verb = verb;
        this.thread = new Thread(this::run, "outpost-backup-progress-" + ctx.command().id());
        this.thread.setDaemon(true);
    }

    TarProgress start() {
        thread.start();
        return this;
    }

    private void run() {
        long last = System.nanoTime();
        long reported = -1;
        synchronized (this) {
            while (!closed) {
                try {
                    wait(POLL_MS);
                } catch (InterruptedException e) {
                    return;
                }
                if (closed) return;
                readAppended();
                long now = System.nanoTime();
                if (done.entries != reported && now - last >= REPORT_NANOS) {
                    report();
                    reported = done.entries;
                    last = now;
                }
            }
        }
    }

    private void readAppended() {
        try (RandomAccessFile f = new RandomAccessFile(index.toFile(), "r")) {
            long len = f.length();
            if (len <= offset) return;
            byte[] b = new byte[(int) Math.min(len - offset, 4 << 20)];
            f.seek(offset);
            f.readFully(b);
            offset += b.length;
            partial.append(new String(b, StandardCharsets.ISO_8859_1));
            int start = 0;
            for (int nl; (nl = partial.indexOf("\n", start)) >= 0; start = nl + 1) {
                try {
                    TarEntry e = TarEntry.parse(partial.substring(start, nl));
                    if (e != null) done.add(e);
                } catch (IllegalArgumentException bad) {
                    // a line progress cannot read costs one count, nothing more
                }
            }
            partial.delete(0, start);
        } catch (IOException e) {
            // tar has not created it yet
        }
    }

    private void report() {
        Listing.Totals total = null;
        if (totals.isDone()) {
            try {
                total = totals.get();
            } catch (Exception e) {
                // counting failed: progress without a total
            }
        }
        if (total == null) {
            progress(null, String.format(java.util.Locale.ROOT, "%,d entries %s, %s", done.entries, verb, Text.bytes(done.fileBytes)));
            return;
        }
        Integer pct = null;
        if (total.fileBytes > 0) pct = (int) Math.min(99, done.fileBytes * 100 / total.fileBytes);
        else if (total.entries > 0) pct = (int) Math.min(99, done.entries * 100 / total.entries);
        progress(pct, String.format(java.util.Locale.ROOT, "%,d of %,d entries %s, %s of %s", done.entries,
            total.entries, verb, Text.bytes(done.fileBytes), Text.bytes(total.fileBytes)));
    }

    private void progress(Integer pct, String message) {
        try {
            ctx.progress(pct, message);
        } catch (RuntimeException e) {
            // progress is best effort; the command goes on
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
