/**
 * Talking to the management server (docs/protocol.md §2–§5): the transport service and the callbacks it needs from
 * the agent, and the protocol's documents of offline mode (§8). The JSON codec itself is private to this bundle.
 */
@Export
@Version("2.0.0")
package agent.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
