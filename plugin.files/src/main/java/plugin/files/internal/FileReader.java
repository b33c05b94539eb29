package plugin.files.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.SettingsType;

/**
 * {@code file.get} (content, digest and metadata) and {@code file.stat} (digest and metadata, or that it does not
 * exist). Reads are held to the same policy as writes (the agent's credentials are never read out) and go through
 * the directory {@link SecureTree} holds open, so a swapped symlink cannot point a read elsewhere either.
 */
@Component
@Actions({"file.get", "file.stat"})
@DryRun
@SettingsType(FileSettings.class)
public final class FileReader implements CommandHandler {
    /** The default and the most file.get returns: its base64 must fit a frame (max_frame_bytes, 1 MiB by default). */
    static final long DEFAULT_MAX_BYTES = 256 * 1024;
    static final long MAX_BYTES = 768 * 1024;

    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        PathPolicy policy = PathPolicy.of(ctx.settings(FileSettings.class), paths, System.getenv());
        Path requested = policy.checkRequested("path", ctx.params().string("path"));
        boolean get = ctx.command().action().equals("file.get");
        long maxBytes = get ? ctx.params().integer("maxBytes", 1, MAX_BYTES, DEFAULT_MAX_BYTES) : 0;

        Map<String, Object> data = new LinkedHashMap<>();
        data.put("path", requested.toString());
        String linkTarget = null;
        try (SecureTree.Located self = SecureTree.locate(requested, false, null)) {
            if (self.exists() && self.attrs.isSymbolicLink()) {
                linkTarget = java.nio.file.Files.readSymbolicLink(self.realPath()).toString();
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return missing(get, requested, data);
        }
        try (SecureTree.Located loc = SecureTree.locate(requested, true, null)) {
            Path real = loc.realPath();
            policy.check("path", requested, real);
            if (!loc.exists()) return missing(get, requested, data);
            data.put("exists", true);
            data.put("realPath", real.toString());
            if (linkTarget != null) data.put("symlink", linkTarget);
            if (!loc.attrs.isRegularFile()) {
                if (get) {
                    throw new CommandRefusedException("param 'path': " + real + " is " + (loc.attrs.isDirectory() ? "a directory" : "not a regular file")
                        + "; file.get reads regular files only");
                }
                data.putAll(lstatData(loc));
                return data;
            }
            try (SeekableByteChannel in = loc.dir.newByteChannel(Path.of(loc.name), java.util.Set.<java.nio.file.OpenOption>of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
                Path fd = ProcFd.byIdentity(loc.attrs.fileKey()).orElseThrow(() -> new CommandException(real
                    + " changed while it was opened; try again"));
                Meta meta = Meta.read(fd, true);
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
                byte[] head = new byte[(int) Math.min(maxBytes, Math.max(0, meta.size()))];
                long total = 0;
                int kept = 0;
                while (in.read(buf) > 0) {
                    buf.flip();
                    int n = buf.remaining();
                    if (kept < head.length) {
                        int take = Math.min(n, head.length - kept);
                        buf.duplicate().get(head, kept, take);
                        kept += take;
                    }
                    sha.update(buf);
                    total += n;
                    buf.clear();
                    ctx.checkCancelled();
                }
                data.putAll(meta.toData());
                data.put("size", total);
                data.put("sha256", HexFormat.of().formatHex(sha.digest()));
                if (get) putContent(data, Arrays.copyOf(head, kept), total > kept);
                ctx.output().println(real + ": " + total + " bytes, " + meta.modeText() + " " + meta.owner().getName() + ":"
                    + meta.group().getName() + ", sha256 " + data.get("sha256"));
                return data;
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return missing(get, requested, data);
        } catch (FileSystemException e) {
            throw new CommandException("cannot read " + requested + ": " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static Map<String, Object> missing(boolean get, Path requested, Map<String, Object> data) throws CommandException {
        if (get) throw new CommandException(requested + " does not exist", ErrorCode.NOT_FOUND);
        data.put("exists", false);
        return data;
    }

    /** A directory or special file: its attributes as the open directory sees them, never opened itself. */
    private static Map<String, Object> lstatData(SecureTree.Located loc) throws IOException {
        PosixFileAttributes a = loc.dir.getFileAttributeView(Path.of(loc.name), PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .readAttributes();
        int mode = 0;
        for (PosixFilePermission p : a.permissions()) mode |= 1 << (8 - p.ordinal());
        Map<String, Object> d = new LinkedHashMap<>();
        BasicFileAttributes b = a;
        d.put("type", b.isDirectory() ? "directory" : "other");
        d.put("size", b.size());
        d.put("mode", Meta.octal(mode));
        d.put("owner", a.owner().getName());
        d.put("group", a.group().getName());
        d.put("modified", b.lastModifiedTime().toInstant().toString());
        return d;
    }

    private static void putContent(Map<String, Object> data, byte[] head, boolean truncated) {
        String text = FilePut.utf8(head);
        // a cut may split a UTF-8 sequence: drop at most three bytes to end on a whole character
        for (int drop = 1; text == null && truncated && drop <= 3 && drop < head.length; drop++) {
            String t = FilePut.utf8(Arrays.copyOf(head, head.length - drop));
            if (t != null) {
                text = t;
                head = Arrays.copyOf(head, head.length - drop);
            }
        }
        data.put("encoding", text != null ? "utf-8" : "base64");
        data.put("content", text != null ? text : Base64.getEncoder().encodeToString(head));
        data.put("contentBytes", head.length);
        data.put("truncated", truncated);
    }
}
