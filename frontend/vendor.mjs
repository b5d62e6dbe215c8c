// Copies the built files of the map's front-end packages into the Python package, with their
// licence files, so that the map works with no internet and no npm at run time.
//   cd frontend && npm ci && npm run vendor
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "..", "stswatch", "api", "static", "vendor");

const packages = {
  leaflet: ["dist/leaflet.js", "dist/leaflet.js.map", "dist/leaflet.css", "dist/images", "LICENSE"],
};

rmSync(target, { recursive: true, force: true });
for (const [name, files] of Object.entries(packages)) {
  const source = join(here, "node_modules", name);
  const version = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;
  const destination = join(target, name);
  mkdirSync(destination, { recursive: true });
  for (const file of files) {
    const to = join(destination, file.replace(/^dist\//, ""));
    cpSync(join(source, file), to, { recursive: true });
  }
  writeFileSync(join(destination, "VERSION"), `${name} ${version}\n`);
  console.log(`vendored ${name} ${version} -> ${destination}`);
}
