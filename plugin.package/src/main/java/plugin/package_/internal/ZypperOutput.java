package plugin.package_.internal;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * zypper's {@code --xmlout} documents (its {@code <stream>}): the install summary of a run or a dry run, and the lists
 * of updates and patches. Parsed with the JDK's DOM parser, DTDs and external entities off.
 */
final class ZypperOutput {
    private ZypperOutput() {}

    /** A patch (an advisory) zypper offers: name, category ({@code security}, {@code recommended}...), severity. */
    record Patch(String name, String category, String severity, String status) {}

    static Document parse(String xml) {
        int start = xml.indexOf('<');
        if (start < 0) return null;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            return b.parse(new InputSource(new StringReader(xml.substring(start))));
        } catch (Exception e) {
            return null;
        }
    }

    /** @return the changes of an {@code <install-summary>}: packages only (patches, patterns and products are not) */
    static List<Change> plan(String xml) {
        List<Change> out = new ArrayList<>();
        Document d = parse(xml);
        if (d == null) return out;
        String[][] kinds = {{"to-install", "installed"}, {"to-upgrade", "upgraded"}, {"to-downgrade", "downgraded"},
            {"to-reinstall", "reinstalled"}, {"to-remove", "removed"}};
        for (String[] k : kinds) {
            NodeList lists = d.getElementsByTagName(k[0]);
            for (int i = 0; i < lists.getLength(); i++) {
                NodeList solvables = ((Element) lists.item(i)).getElementsByTagName("solvable");
                for (int j = 0; j < solvables.getLength(); j++) {
                    Element s = (Element) solvables.item(j);
                    if (!"package".equals(s.getAttribute("type"))) continue;
                    String edition = s.getAttribute("edition");
                    String old = s.hasAttribute("edition-old") ? s.getAttribute("edition-old") : null;
                    if (k[1].equals("removed")) out.add(new Change(s.getAttribute("name"), s.getAttribute("arch"), k[1], edition, null));
                    else out.add(new Change(s.getAttribute("name"), s.getAttribute("arch"), k[1], old, edition));
                }
            }
        }
        return out;
    }

    /** @return the package updates of {@code list-updates} */
    static List<Manager.Update> updates(String xml) {
        List<Manager.Update> out = new ArrayList<>();
        Document d = parse(xml);
        if (d == null) return out;
        NodeList ups = d.getElementsByTagName("update");
        for (int i = 0; i < ups.getLength(); i++) {
            Element u = (Element) ups.item(i);
            if (!"package".equals(u.getAttribute("kind"))) continue;
            NodeList src = u.getElementsByTagName("source");
            String origin = src.getLength() == 0 ? null : ((Element) src.item(0)).getAttribute("alias");
            out.add(new Manager.Update(u.getAttribute("name"), u.getAttribute("arch"),
                u.hasAttribute("edition-old") ? u.getAttribute("edition-old") : null, u.getAttribute("edition"),
                null, null, origin == null ? List.of() : List.of(origin)));
        }
        return out;
    }

    /** @return the patches of {@code list-patches} */
    static List<Patch> patches(String xml) {
        List<Patch> out = new ArrayList<>();
        Document d = parse(xml);
        if (d == null) return out;
        NodeList ups = d.getElementsByTagName("update");
        for (int i = 0; i < ups.getLength(); i++) {
            Element u = (Element) ups.item(i);
            if (!"patch".equals(u.getAttribute("kind"))) continue;
            out.add(new Patch(u.getAttribute("name"), u.getAttribute("category"), u.getAttribute("severity"), u.getAttribute("status")));
        }
        return out;
    }

    /** @return the texts of {@code <message type="error">} elements */
    static List<String> errors(String xml) {
        List<String> out = new ArrayList<>();
        Document d = parse(xml);
        if (d == null) return out;
        NodeList ms = d.getElementsByTagName("message");
        for (int i = 0; i < ms.getLength(); i++) {
            Element m = (Element) ms.item(i);
            if ("error".equals(m.getAttribute("type"))) out.add(m.getTextContent().strip());
        }
        return out;
    }
}
