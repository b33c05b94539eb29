package plugin.files.internal;

import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
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
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.SettingsType;

/**
 * {@code file.delete}: removes a file or a symlink (the link itself, never what it points to) with {@code unlinkat}
 * in the directory {@link SecureTree} holds open, then fsyncs the directory. A missing file changes nothing;
 * directories are refused.
 */
@Component
@Actions("file.delete")
@ConcurrencyKey("file")
@DryRun
@SettingsType(FileSettings.class)
public final class FileDelete implements CommandHandler {
    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        PathPolicy policy = PathPolicy.of(ctx.settings(FileSettings.class), paths, System.getenv());
        Path requested = policy.checkRequested("path", ctx.params().string("path"));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("path", requested.toString());
        try (SecureTree.Located loc = SecureTree.locate(requested, false, null)) {
            Path real = loc.realPath();
            policy.check("path", requested, real);
            data.put("realPath", real.toString());
            if (!loc.exists()) {
                ctx.output().println(real + " does not exist; nothing to delete");
                data.put("changed", false);
                data.put("type", null);
                return data;
            }
            String type = loc.attrs.isRegularFile() ? "file" : loc.attrs.isSymbolicLink() ? "symlink" : loc.attrs.isDirectory() ? "directory" : "other";
            if (type.equals("directory") || type.equals("other")) {
                throw new CommandRefusedException("param 'path': " + real + " is " + (type.equals("directory") ? "a directory" : "not a regular file or a link")
                    + "; file.delete removes files and links only");
            }
            data.put("type", type);
            data.put("size", loc.attrs.size());
            data.put("changed", true);
            if (ctx.dryRun()) {
                ctx.output().println("would delete " + real + " (" + type + ")");
                data.put("dryRun", true);
                return data;
            }
            loc.dir.deleteFile(Path.of(loc.name)); // unlinkat within the open directory
            loc.syncDir();
            ctx.output().println("deleted " + real + " (" + type + ")");
            return data;
        } catch (NoSuchFileException | NotDirectoryException e) {
            ctx.output().println(requested + " does not exist; nothing to delete");
            data.put("changed", false);
            data.put("type", null);
            return data;
        } catch (FileSystemException e) {
            throw new CommandException("cannot delete " + requested + ": " + e.getMessage() + ". Nothing was changed.");
        }
    }
}
