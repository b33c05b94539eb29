/**
 * The plugin SPI of the Outpost agent: commands, results, handlers and the context a handler runs in.
 */
@Export
@Version("1.2.0")
package agent.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
