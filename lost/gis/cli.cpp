#include "gis/cli.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <pwd.h>
#include <sstream>
#include <unistd.h>

#include <boost/program_options.hpp>

#include "db/conninfo.h"
#include "gis/gis_store.h"

namespace po = boost::program_options;

namespace ng911::gis {
namespace {

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

constexpr const char* kUsageText =
    "usage: ng911-gis COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  load --layer LAYER FILE     validate FILE and publish it as a new version of LAYER\n"
    "  validate --layer LAYER FILE validate only; nothing is written\n"
    "  rollback --layer LAYER      publish the previous version again (or --to VERSION)\n"
    "  status [--layer LAYER]      published versions and load history\n"
    "  export --layer LAYER        write a version as GeoJSON (or --format DRIVER)\n"
    "  layers                      the NENA layers and their fields\n"
    "\n"
    "Every command takes --db CONNINFO; without it libpq's PG* variables and then the local\n"
    "cluster (127.0.0.1:55432, database ng911) are used. `ng911-gis COMMAND --help` for more.\n";

using Clock = std::chrono::steady_clock;

// Shows progress on stderr: an updating line on a terminal, a line per 10% otherwise.
class TerminalProgress final : public Progress {
 public:
  explicit TerminalProgress(std::ostream& err) : err_(err), tty_(isatty(STDERR_FILENO) == 1) {}
  ~TerminalProgress() override { end_line(); }

  void phase(std::string_view name) override {
    end_line();
    err_ << "ng911-gis: " << name << "..." << (tty_ ? "" : "\n") << std::flush;
    in_line_ = tty_;
    last_decile_ = -1;
  }

  void advance(std::int64_t done, std::int64_t total) override {
    if (total <= 0) return;
    auto now = Clock::now();
    int decile = static_cast<int>(done * 10 / total);
    if (tty_) {
      if (now - last_draw_ < std::chrono::milliseconds(200) && done != total) return;
      last_draw_ = now;
      err_ << "\rng911-gis: reading... " << done << "/" << total << " features (" << (done * 100 / total) << "%)"
           << std::flush;
      in_line_ = true;
    } else if (decile != last_decile_) {
      last_decile_ = decile;
      err_ << "ng911-gis: read " << done << "/" << total << " features (" << decile * 10 << "%)\n";
    }
  }

 private:
  void end_line() {
    if (in_line_) err_ << '\n';
    in_line_ = false;
  }
  std::ostream& err_;
  bool tty_;
  bool in_line_ = false;
  int last_decile_ = -1;
  Clock::time_point last_draw_{};
};

std::string current_user() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) return sudo;
  if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return "uid " + std::to_string(geteuid());
}

const LayerSpec& require_layer(const po::variables_map& vm) {
  if (!vm.count("layer")) throw po::error("--layer is required (one of: " + layer_names() + ")");
  const LayerSpec* layer = find_layer(vm["layer"].as<std::string>());
  if (layer == nullptr)
    throw GisError("unknown layer '" + vm["layer"].as<std::string>() + "'; the layers are: " + layer_names());
  return *layer;
}

std::optional<std::string> db_option(const po::variables_map& vm) {
  if (vm.count("db")) return vm["db"].as<std::string>();
  return std::nullopt;
}

po::options_description common_options() {
  po::options_description o("options");
  o.add_options()("help,h", "this help")("db", po::value<std::string>(), "PostgreSQL connection string");
  return o;
}

po::variables_map parse(const po::options_description& desc, const std::vector<std::string>& args,
                        const po::positional_options_description* positional = nullptr) {
  po::variables_map vm;
  auto parser = po::command_line_parser(args).options(desc);
  if (positional) parser.positional(*positional);
  po::store(parser.run(), vm);
  po::notify(vm);
  return vm;
}

int cmd_load(const std::vector<std::string>& args, bool dry_run, std::ostream& out, std::ostream& err) {
  po::options_description desc = common_options();
  desc.add_options()
      ("layer", po::value<std::string>(), "NENA layer (ng911-gis layers lists them)")
      ("file", po::value<std::string>(), "source file: GeoJSON, Shapefile, GeoPackage, ...")
      ("map", po::value<std::vector<std::string>>()->composing(),
       "NENA_FIELD=SOURCE_FIELD: take a NENA field from a differently named source field")
      ("set", po::value<std::vector<std::string>>()->composing(),
       "NENA_FIELD=VALUE: give a NENA field the same value in every feature")
      ("source-layer", po::value<std::string>(), "layer of the file to read (default: the first)")
      ("s-srs", po::value<std::string>(), "the source CRS, when the file lacks one or states it wrongly")
      ("tolerance-m2", po::value<double>()->default_value(1000.0),
       "gaps and overlaps smaller than this many square metres are warnings, not errors")
      ("force", "publish despite errors: features with errors are left out, invalid geometries repaired")
      ("if-changed", "do nothing when the published version came from a file with the same bytes")
      ("report-json", po::value<std::string>(), "also write the validation report as JSON to this file")
      ("max-lines", po::value<std::size_t>()->default_value(20), "report lines shown per kind of problem");
  po::positional_options_description pos;
  pos.add("file", 1);
  auto vm = parse(desc, args, &pos);
  if (vm.count("help")) {
    out << "usage: ng911-gis " << (dry_run ? "validate" : "load") << " --layer LAYER [options] FILE\n" << desc;
    return kOk;
  }
  const LayerSpec& layer = require_layer(vm);
  if (!vm.count("file")) throw po::error("a source FILE is required");

  SourceOptions source_options;
  source_options.path = vm["file"].as<std::string>();
  if (vm.count("source-layer")) source_options.source_layer = vm["source-layer"].as<std::string>();
  if (vm.count("s-srs")) source_options.source_srs = vm["s-srs"].as<std::string>();
  source_options.mapping = parse_field_mapping(
      layer, vm.count("map") ? vm["map"].as<std::vector<std::string>>() : std::vector<std::string>{},
      vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{});

  LoadOptions options;
  options.dry_run = dry_run;
  options.force = vm.count("force") > 0;
  options.if_changed = vm.count("if-changed") > 0;
  options.tolerance_m2 = vm["tolerance-m2"].as<double>();
  if (options.tolerance_m2 < 0) throw po::error("--tolerance-m2 must not be negative");
  options.loaded_by = current_user();

  auto started = Clock::now();
  GisStore store(db::resolve_conninfo(db_option(vm)));
  SourceReader reader(layer, source_options);
  err << "ng911-gis: " << reader.description() << "\n";
  LoadResult r;
  {
    TerminalProgress progress(err);
    r = store.load(layer, reader, source_options.path, options, &progress);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  if (r.outcome == LoadOutcome::unchanged) {
    out << "unchanged layer=" << layer.name << " version=" << r.version_id
        << " (the published version came from the same file)\n";
    return kOk;
  }
  r.report.print(out, vm["max-lines"].as<std::size_t>());
  if (vm.count("report-json")) {
    std::ofstream json(vm["report-json"].as<std::string>());
    json << r.report.to_json().dump(2) << '\n';
    if (!json) throw GisError("cannot write " + vm["report-json"].as<std::string>());
  }
  std::ostringstream figures;
  figures << " layer=" << layer.name << " features=" << r.features_read << " errors=" << r.report.errors()
          << " warnings=" << r.report.warnings() << " gaps=" << r.report.count("gap")
          << " overlaps=" << r.report.count("overlap") << " seconds=" << std::fixed << std::setprecision(1) << seconds;
  switch (r.outcome) {
    case LoadOutcome::published:
      out << "published" << figures.str() << " version=" << r.version_id << " published_features=" << r.features_published
          << " previous_version=" << r.previous_version_id << (options.force && r.report.errors() ? " forced" : "") << "\n";
      return kOk;
    case LoadOutcome::validated:
      out << (r.report.errors() ? "invalid" : "valid") << figures.str() << "\n";
      return r.report.errors() ? kRefused : kOk;
    case LoadOutcome::refused:
      out << "refused" << figures.str() << " version=" << r.version_id
          << " (nothing published; fix the errors, or --force to publish without the bad features)\n";
      return kRefused;
    case LoadOutcome::unchanged:
      break;
  }
  return kOk;
}

int cmd_rollback(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description desc = common_options();
  desc.add_options()("layer", po::value<std::string>(), "NENA layer")(
      "to", po::value<std::int64_t>(), "version to publish again (default: the one before the current)");
  auto vm = parse(desc, args);
  if (vm.count("help")) {
    out << "usage: ng911-gis rollback --layer LAYER [--to VERSION]\n" << desc;
    return kOk;
  }
  const LayerSpec& layer = require_layer(vm);
  GisStore store(db::resolve_conninfo(db_option(vm)));
  auto before = store.published_version(layer);
  auto now = store.rollback(layer, vm.count("to") ? std::optional(vm["to"].as<std::int64_t>()) : std::nullopt,
                            current_user());
  out << "rolled back layer=" << layer.name << " from_version=" << before.value_or(0) << " version=" << now << "\n";
  return kOk;
}

int cmd_status(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description desc = common_options();
  desc.add_options()("layer", po::value<std::string>(), "only this layer")(
      "limit", po::value<int>()->default_value(20), "versions to list");
  auto vm = parse(desc, args);
  if (vm.count("help")) {
    out << "usage: ng911-gis status [--layer LAYER]\n" << desc;
    return kOk;
  }
  const LayerSpec* layer = vm.count("layer") ? &require_layer(vm) : nullptr;
  GisStore store(db::resolve_conninfo(db_option(vm)));
  out << "published:\n";
  bool any = false;
  for (const auto& l : all_layers()) {
    if (layer && layer != &l) continue;
    if (auto v = store.published_version(l)) {
      for (const auto& info : store.versions(&l, 1000))
        if (info.version_id == *v) {
          out << "  " << std::left << std::setw(26) << l.name << " version " << std::setw(5) << *v << " "
              << info.feature_count << " features, since " << info.published_at << "\n";
          any = true;
        }
    }
  }
  if (!any) out << "  (nothing)\n";
  out << "history (newest first):\n";
  out << "  " << std::left << std::setw(8) << "version" << std::setw(26) << "layer" << std::setw(12) << "state"
      << std::setw(10) << "features" << std::setw(8) << "errors" << std::setw(10) << "warnings" << std::setw(22)
      << "loaded at" << std::setw(12) << "by" << "source\n";
  for (const auto& v : store.versions(layer, vm["limit"].as<int>()))
    out << "  " << std::setw(8) << v.version_id << std::setw(26) << v.layer << std::setw(12)
        << (v.forced ? v.state + "*" : v.state) << std::setw(10) << v.feature_count << std::setw(8) << v.error_count
        << std::setw(10) << v.warning_count << std::setw(22) << v.started_at << std::setw(12) << v.loaded_by
        << v.source_file << "\n";
  return kOk;
}

int cmd_export(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::options_description desc = common_options();
  desc.add_options()("layer", po::value<std::string>(), "NENA layer")(
      "version", po::value<std::int64_t>(), "version to export (default: the published one)")(
      "output,o", po::value<std::string>()->default_value("-"), "output file, - for standard output")(
      "format", po::value<std::string>()->default_value("GeoJSON"), "OGR driver (GeoJSON, GPKG, ...)");
  auto vm = parse(desc, args);
  if (vm.count("help")) {
    out << "usage: ng911-gis export --layer LAYER [--version N] [-o FILE]\n" << desc;
    return kOk;
  }
  const LayerSpec& layer = require_layer(vm);
  std::string path = vm["output"].as<std::string>();
  if (path == "-") {
    out.flush();
    path = "/vsistdout/";
  }
  GisStore store(db::resolve_conninfo(db_option(vm)));
  auto r = store.export_layer(layer, vm.count("version") ? std::optional(vm["version"].as<std::int64_t>()) : std::nullopt,
                              path, vm["format"].as<std::string>());
  err << "exported layer=" << layer.name << " version=" << r.version_id << " features=" << r.features << "\n";
  return kOk;
}

int cmd_layers(std::ostream& out) {
  for (const auto& l : all_layers()) {
    out << l.name;
    if (!l.alias.empty()) out << " (" << l.alias << ")";
    out << ": " << l.geometry_name() << ", table " << l.table << "\n  ";
    for (const auto& f : l.fields) out << " " << f.name << (f.required ? "*" : "");
    out << "\n";
  }
  out << "(* required)\n";
  return kOk;
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  if (argc < 2) {
    err << kUsageText;
    return kUsage;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "load") return cmd_load(args, false, out, err);
    if (command == "validate") return cmd_load(args, true, out, err);
    if (command == "rollback") return cmd_rollback(args, out);
    if (command == "status") return cmd_status(args, out);
    if (command == "export") return cmd_export(args, out, err);
    if (command == "layers") return cmd_layers(out);
    if (command == "help" || command == "--help" || command == "-h") {
      out << kUsageText;
      return kOk;
    }
    err << "ng911-gis: unknown command '" << command << "'\n" << kUsageText;
    return kUsage;
  } catch (const po::error& e) {
    err << "ng911-gis " << command << ": " << e.what() << " (see ng911-gis " << command << " --help)\n";
    return kUsage;
  } catch (const GisError& e) {
    err << "ng911-gis " << command << ": " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    err << "ng911-gis " << command << ": " << e.what() << "\n";
    return kUsage;
  }
}

}  // namespace ng911::gis
