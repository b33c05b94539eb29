/**
 * Talking to the management server (PROTOCOL.md §2–§5): the transport service, the callbacks it needs from the
 * agent, and the protocol codec.
 */
@Export
@Version("1.1.0")
package agent.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
