#!/bin/sh
# Rebuilds the fixtures with the real gem (Debian's ruby, RubyGems 3.3):
#   sh testdata/make-fixtures.sh   (from the package directory)
# coffer_tiny-0.1.0.gem                    a runtime and a development dependency
# coffer_tiny-0.2.0.pre1-x86_64-linux.gem  a prerelease platform gem
# coffer_tiny-0.1.0-tampered.gem           0.1.0 with another data.tar.gz: checksum mismatch
# index/                                   gem generate_index of the two good gems
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SOURCE_DATE_EPOCH=1700000000
mkdir lib
echo 'module Tiny; end' > lib/tiny.rb
cat > tiny.gemspec <<'SPEC'
Gem::Specification.new do |s|
  s.name = "coffer_tiny"
  s.version = "0.1.0"
  s.summary = "A tiny gem"
  s.description = "A tiny gem for tests, with ünïcode"
  s.authors = ["Ada Lovelace", "Bob"]
  s.email = "ada@example.com"
  s.homepage = "https://example.com/tiny"
  s.license = "MIT"
  s.files = ["lib/tiny.rb"]
  s.required_ruby_version = ">= 2.7"
  s.metadata = { "source_code_uri" => "https://example.com/src", "changelog_uri" => "https://example.com/changes" }
  s.add_runtime_dependency "rack", ">= 2.0", "< 4"
  s.add_development_dependency "rake", "~> 13.0"
end
SPEC
cat > plat.gemspec <<'SPEC'
Gem::Specification.new do |s|
  s.name = "coffer_tiny"
  s.version = "0.2.0.pre1"
  s.platform = "x86_64-linux"
  s.summary = "A tiny platform gem"
  s.authors = ["Ada"]
  s.license = "MIT"
  s.files = ["lib/tiny.rb"]
  s.add_runtime_dependency "ffi", "~> 1.15", ">= 1.15.5"
end
SPEC
gem build tiny.gemspec >/dev/null 2>&1
gem build plat.gemspec >/dev/null 2>&1
ruby -rrubygems/package -rzlib -rstringio -e '
  entries = []
  File.open(ARGV[0], "rb") { |f| Gem::Package::TarReader.new(f) { |t| t.each { |e| entries << [e.full_name, e.read] } } }
  io = StringIO.new("".b)
  gz = Zlib::GzipWriter.new(io)
  Gem::Package::TarWriter.new(gz) { |t| t.add_file_simple("lib/tiny.rb", 0644, 27) { |w| w.write("module Tiny; EVIL = 1; end\n") } }
  gz.finish
  entries.map! { |n, d| [n, n == "data.tar.gz" ? io.string : d] }
  File.open(ARGV[1], "wb") { |f| Gem::Package::TarWriter.new(f) { |t| entries.each { |n, d| t.add_file_simple(n, 0444, d.bytesize) { |w| w.write(d) } } } }
' coffer_tiny-0.1.0.gem coffer_tiny-0.1.0-tampered.gem
mkdir -p repo/gems
cp coffer_tiny-0.1.0.gem coffer_tiny-0.2.0.pre1-x86_64-linux.gem repo/gems/
gem generate_index --directory repo >/dev/null 2>&1
cp coffer_tiny-0.1.0.gem coffer_tiny-0.2.0.pre1-x86_64-linux.gem coffer_tiny-0.1.0-tampered.gem "$out/"
rm -rf "$out/index"
mkdir -p "$out/index/quick/Marshal.4.8"
cp repo/specs.4.8 repo/latest_specs.4.8 repo/prerelease_specs.4.8 "$out/index/"
cp repo/quick/Marshal.4.8/*.gemspec.rz "$out/index/quick/Marshal.4.8/"
