package plugin.dataset.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.ServerFiles;

/**
 * Downloads a data set of the agent's own server (a relative {@code url}, docs/protocol.md §7.1) through the agent's
 * {@link ServerFiles}: its credentials, TLS settings and proxy. Resumes like {@link Downloader}: a part file left by a
 * dropped connection or an earlier run continues with a range request validated by the server's ETag; the sha256 is
 * taken as the bytes arrive. A watchdog closes a body that stalls for {@code stall_seconds} or whose command is
 * cancelled, since a blocked read notices neither.
 */
final class ServerDownload {
    private final DatasetSettings settings;
    private final CommandContext ctx;
    private final ServerFiles files;

    ServerDownload(DatasetSettings settings, CommandContext ctx, ServerFiles files) {
        this.settings = settings;
        this.ctx = ctx;
        this.files = files;
    }

    Downloader.Result download(URI path, Path part, Path meta) throws CommandException, CommandCancelledException, IOException {
        Properties validators = Downloader.loadMeta(meta, path);
        MessageDigest sha = Downloader.sha256();
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > 0) Downloader.hash(part, sha);
        long resumedFrom = have;
        long fetched = 0;
        int requests = 0;
        int failures = 0;
        while (true) {
            ctx.checkCancelled();
            requests++;
            ctx.output().println("$ GET " + Downloader.display(path) + " (the agent's server)" + (have > 0 ? " (Range: bytes=" + have + "-)" : ""));
            ServerFiles.Download d;
            try {
                d = files.open(path.toString(), have, have > 0 ? validators.getProperty("etag") : null);
            } catch (ServerFiles.ServerFileException e) {
                if (e.status() == 416 && have > 0) {
                    ctx.output().println("the server refused the range (" + have + " bytes are here): starting again");
                    Files.deleteIfExists(part);
                    have = 0;
                    sha = Downloader.sha256();
                    continue;
                }
                if (e.status() == 404 || e.status() == 410) {
                    throw new CommandRefusedException("the agent's server has no data set at " + path.getRawPath() + " (HTTP " + e.status()
                        + "). Nothing was changed.", ErrorCode.NOT_FOUND);
                }
                if (e.status() < 500 && e.status() != 408 && e.status() != 429) {
                    throw new CommandException(e.getMessage() + ". Nothing was changed.");
                }
                if (++failures > settings.retries()) throw gaveUp(path, e, have);
                pause(failures, e);
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ctx.checkCancelled();
                throw new java.io.InterruptedIOException("interrupted");
            } catch (IOException e) {
                if (++failures > settings.retries()) throw gaveUp(path, e, have);
                pause(failures, e);
                continue;
            }
            try (d) {
                if (d.offset() == 0) {
                    if (have > 0) ctx.output().println("the server sent the whole file (it changed): started again from byte 0");
                    have = 0;
                    resumedFrom = 0;
                    sha = Downloader.sha256();
                    Properties v = new Properties();
                    v.setProperty("url", path.toString());
                    if (d.etag() != null) v.setProperty("etag", d.etag());
                    if (d.size() >= 0) v.setProperty("length", Long.toString(d.size()));
                    validators = v;
                    Downloader.saveMeta(meta, v);
                }
                long before = have;
                try {
                    have = copy(d, part, have, sha);
                } finally {
                    fetched += Math.max(0, (Files.exists(part) ? Files.size(part) : 0) - before);
                }
                if (d.size() >= 0 && have != d.size()) throw new IOException("the body ended after " + have + " of " + d.size() + " bytes");
                return new Downloader.Result(have, HexFormat.of().formatHex(sha.digest()), resumedFrom, requests, fetched);
            } catch (Downloader.WriteFailed e) {
                throw new CommandException(e.getMessage() + "; the bytes written are kept for the next attempt. Nothing was changed.");
            } catch (IOException e) {
                ctx.checkCancelled();
                // what reached the disk is the resume point, and the digest must cover exactly that
                have = Files.exists(part) ? Files.size(part) : 0;
                sha = Downloader.sha256();
                if (have > 0) Downloader.hash(part, sha);
                ctx.output().println("the connection broke after " + have + " bytes (" + e.getMessage() + "); resuming");
                if (++failures > settings.retries()) throw gaveUp(path, e, have);
                pause(failures, e);
            }
        }
    }

    /** @return the part file's size after the body was appended at {@code from} */
    private long copy(ServerFiles.Download d, Path part, long from, MessageDigest sha) throws IOException {
        long stallNanos = TimeUnit.SECONDS.toNanos(settings.stallSeconds());
        long[] lastData = {System.nanoTime()};
        boolean[] stopped = {false};
        Thread watchdog = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
                if (ctx.isCancelled() || System.nanoTime() - lastData[0] > stallNanos) {
                    stopped[0] = true;
                    try {
                        d.close();
                    } catch (IOException e) {
                        // closing is all that is wanted
                    }
                    return;
                }
            }
        }, "outpost-dataset-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        long at = from;
        long told = System.nanoTime();
        try (FileChannel out = open(part, from); InputStream in = d.body()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                sha.update(buf, 0, n);
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                try {
                    while (b.hasRemaining()) out.write(b);
                } catch (IOException e) {
                    throw new Downloader.WriteFailed("cannot write " + part + ": " + e.getMessage(), e);
                }
                at += n;
                lastData[0] = System.nanoTime();
                if (lastData[0] - told > 1_000_000_000L) {
                    told = lastData[0];
                    long t = d.size();
                    ctx.progress(t > 0 ? (int) Math.min(99, at * 100 / t) : null, "downloaded " + Text.bytes(at) + (t > 0 ? " of " + Text.bytes(t) : ""));
                }
            }
            out.force(false);
        } catch (IOException e) {
            if (stopped[0] && !ctx.isCancelled()) throw new IOException("no data for " + settings.stallSeconds() + " s", e);
            throw e;
        } finally {
            watchdog.interrupt();
        }
        return at;
    }

    private static FileChannel open(Path part, long from) throws Downloader.WriteFailed {
        try {
            FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            ch.truncate(from);
            ch.position(from);
            return ch;
        } catch (IOException e) {
            throw new Downloader.WriteFailed("cannot write " + part + ": " + e.getMessage(), e);
        }
    }

    private void pause(int attempt, IOException cause) throws CommandCancelledException, java.io.InterruptedIOException {
        Downloader.pause(settings, ctx, attempt, cause);
    }

    private CommandException gaveUp(URI path, IOException e, long have) { return Downloader.gaveUp(settings, path, e, have); }
}
