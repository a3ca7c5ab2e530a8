// Writers of the simulated delivery files. Rows are formatted in parallel, chunk by chunk, into per-thread
// buffers and written in chunk order, so the bytes do not depend on the number of threads.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/simulate_model.hpp"
#include "io/date.hpp"
#include "io/delivery_writer.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace pwas::engine::sim {

namespace {

using io::TextBuffer;

// Formats items [begin, end) per chunk with format(begin, end, buffer), in parallel, writing chunks in order.
template <class Format>
void write_chunks(io::DeliveryFile& file, std::int64_t n_items, std::int64_t per_chunk, int threads,
                  const Format& format) {
  const std::int64_t n_chunks = (n_items + per_chunk - 1) / per_chunk;
  std::vector<TextBuffer> buffers(static_cast<std::size_t>(threads));
  FirstError errors;
#pragma omp parallel for ordered schedule(static, 1) num_threads(threads)
  for (std::int64_t c = 0; c < n_chunks; ++c) {
    TextBuffer& buffer = buffers[static_cast<std::size_t>(thread_index())];
    buffer.clear();
    errors.run([&] { format(c * per_chunk, std::min(n_items, (c + 1) * per_chunk), buffer); });
#pragma omp ordered
    errors.run([&] { file.write(buffer.view()); });
  }
  errors.rethrow();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// "text" followed by a separator, in a form the hot loops can memcpy.
struct Piece {
  char text[32];
  std::size_t size = 0;
};

Piece piece(std::int64_t v, char separator) {
  Piece p;
  p.size = static_cast<std::size_t>(io::write_int(p.text, v) - p.text);
  p.text[p.size++] = separator;
  return p;
}

char* put(char* out, const Piece& p) {
  std::memcpy(out, p.text, p.size);
  return out + p.size;
}

// Long rows of one person at one instance: "eid\tins\tcoding\tresult\n" for each measured assay.
char* long_rows(char* out, const Piece& prefix, const std::vector<Piece>& codes, const std::int32_t* values,
                std::int64_t stride, std::int64_t n_assays) {
  for (std::int64_t j = 0; j < n_assays; ++j) {
    const std::int32_t v = values[j * stride];
    if (v == kMissingNpx) continue;
    out = put(out, prefix);
    out = put(out, codes[static_cast<std::size_t>(j)]);
    out = io::write_fixed(out, v, kNpxDecimals);
    *out++ = '\n';
  }
  return out;
}

void put_flag(TextBuffer& b, bool missing, std::int64_t v) {
  b.put(',');
  if (!missing) b.put_int(v);
}

void put_label(TextBuffer& b, bool missing, const char* label) {
  b.put(',');
  if (!missing) b.put(std::string_view(label));
}

void put_double(TextBuffer& b, double v, int decimals) {
  if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0.0;  // no "-0.0000"
  char text[64];
  const auto end = std::to_chars(text, text + sizeof(text), v, std::chars_format::fixed, decimals).ptr;
  b.put(std::string_view(text, static_cast<std::size_t>(end - text)));
}

void put_date(TextBuffer& b, std::int32_t day) {
  b.put(',');
  if (day != kNoDate) b.put(io::format_iso_date(day));
}

void participant_row(TextBuffer& b, const People& p, const Outcomes& o, std::size_t k) {
  const std::uint16_t m = p.missing[k];
  b.put_int(p.eid[k]);
  b.put(',');
  b.put_int(p.age[k]);
  b.put(',');
  b.put_int(p.male[k]);
  b.put(',');
  b.put_int(kCentreCodes[p.centre[k]]);
  b.put(',');
  b.put_int(p.batch[k] + 1);
  b.put(',');
  b.put_int(p.time_gap[k]);
  for (int c = 0; c < kNumPcs; ++c) {
    b.put(',');
    if (!(m & kMissPcs)) b.put_fixed(io::scale_round(p.pcs[k * kNumPcs + c], 4), 4);
  }
  put_label(b, m & kMissEthnicity, kEthnicityLabels[p.ethnicity[k]]);
  put_label(b, m & kMissEducation, kEducationLabels[p.education[k]]);
  put_label(b, m & kMissIncome, kIncomeLabels[p.income_low[k]]);
  put_flag(b, m & kMissSmoking, p.smoking[k]);
  put_flag(b, m & kMissAlcohol, p.alcohol[k]);
  b.put(',');
  if (!(m & kMissBmi)) b.put_fixed(io::scale_round(p.bmi[k], 4), 4);
  put_flag(b, m & kMissIsolation, p.isolated[k]);
  put_flag(b, m & kMissLoneliness, p.lonely[k]);
  put_flag(b, m & kMissIsolation, p.isolation_score[k]);
  put_flag(b, m & kMissLoneliness, p.loneliness_score[k]);
  put_flag(b, m & kMissLonelyField, p.lonely_field[k]);
  put_date(b, o.baseline[k]);
  for (const auto& date : o.date) put_date(b, date[k]);
  b.put('\n');
}

}  // namespace

int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  return 1;
#endif
}

int thread_index() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

std::int64_t write_participants(const std::string& path, const People& p, const Outcomes& o, int threads) {
  io::DeliveryFile file(path);
  TextBuffer header(4096);
  header.put("eid,age,sex,centre,olink_batch,time_gap_days");
  for (int c = 1; c <= kNumPcs; ++c) header.put(",pc" + std::to_string(c));
  header.put(
      ",ethnicity,education,income,smoking,alcohol,bmi,isolation,loneliness,isolation_score,"
      "loneliness_score,lonely_field_2020,date_baseline");
  for (const char* name : kOutcomeNames) header.put(std::string(",date_") + name);
  header.put('\n');
  file.write(header.view());
  write_chunks(file, static_cast<std::int64_t>(p.csv_order.size()), 4096, threads,
               [&](std::int64_t begin, std::int64_t end, TextBuffer& b) {
                 for (std::int64_t r = begin; r < end; ++r)
                   participant_row(b, p, o, static_cast<std::size_t>(p.csv_order[static_cast<std::size_t>(r)]));
               });
  file.close();
  return file.bytes();
}

std::int64_t write_coding(const std::string& path, const std::vector<Assay>& assays) {
  io::DeliveryFile file(path);
  TextBuffer b;
  b.put("coding\tmeaning\n");
  for (std::size_t j = 0; j < assays.size(); ++j) {
    b.put_int(static_cast<std::int64_t>(j) + 1);
    b.put('\t');
    b.put(assays[j].symbol);
    b.put(';');
    b.put(assays[j].name);
    b.put('\n');
  }
  file.write(b.view());
  file.close();
  return file.bytes();
}

std::int64_t write_olink_long(const std::string& path, const People& p, const ProteinMatrix& m,
                              std::int64_t n_assays, int threads) {
  io::DeliveryFile file(path);
  file.write("eid\tins_index\tprotein_id\tresult\n");
  std::vector<Piece> codes;
  for (std::int64_t j = 0; j < n_assays; ++j) codes.push_back(piece(j + 1, '\t'));
  // Repeat-visit index of each matrix row (-1: none).
  std::vector<std::int64_t> at2(static_cast<std::size_t>(m.n_rows), -1);
  std::vector<std::int64_t> at3(at2.size(), -1);
  for (std::size_t v = 0; v < p.visit2_rows.size(); ++v)
    at2[static_cast<std::size_t>(p.visit2_rows[v])] = static_cast<std::int64_t>(v);
  for (std::size_t v = 0; v < p.visit3_rows.size(); ++v)
    at3[static_cast<std::size_t>(p.visit3_rows[v])] = static_cast<std::int64_t>(v);
  const auto n2 = static_cast<std::int64_t>(p.visit2_rows.size());
  const auto n3 = static_cast<std::int64_t>(p.visit3_rows.size());
  constexpr std::size_t kMaxRow = 32 + 32 + io::kMaxNumberChars + 2;

  write_chunks(file, m.n_rows, 64, threads, [&](std::int64_t begin, std::int64_t end, TextBuffer& b) {
    for (std::int64_t r = begin; r < end; ++r) {
      const std::int64_t eid = p.eid[static_cast<std::size_t>(p.olink_rows[static_cast<std::size_t>(r)])];
      Piece prefix = piece(eid, '\t');
      prefix.text[prefix.size++] = '0';
      prefix.text[prefix.size++] = '\t';
      char* out = b.reserve(static_cast<std::size_t>(n_assays) * kMaxRow);
      b.commit(long_rows(out, prefix, codes, m.values.data() + r, m.n_rows, n_assays));
      const std::int64_t visits[2] = {at2[static_cast<std::size_t>(r)], at3[static_cast<std::size_t>(r)]};
      for (int v = 0; v < 2; ++v) {
        if (visits[v] < 0) continue;
        prefix.text[prefix.size - 2] = v == 0 ? '2' : '3';
        const std::int32_t* values = (v == 0 ? m.visit2.data() : m.visit3.data()) + visits[v];
        out = b.reserve(static_cast<std::size_t>(n_assays) * kMaxRow);
        b.commit(long_rows(out, prefix, codes, values, v == 0 ? n2 : n3, n_assays));
      }
    }
  });
  file.close();
  return file.bytes();
}

std::int64_t write_olink_wide(const std::string& path, const People& p, const ProteinMatrix& m,
                              const std::vector<Assay>& assays, int threads) {
  io::DeliveryFile file(path);
  TextBuffer header;
  header.put("eid");
  for (const Assay& a : assays) {
    header.put(',');
    header.put(lower(a.symbol));
  }
  header.put('\n');
  file.write(header.view());
  const auto n_assays = static_cast<std::int64_t>(assays.size());
  write_chunks(file, m.n_rows, 128, threads, [&](std::int64_t begin, std::int64_t end, TextBuffer& b) {
    for (std::int64_t r = begin; r < end; ++r) {
      char* out = b.reserve(static_cast<std::size_t>(n_assays + 1) * (io::kMaxNumberChars + 2));
      out = io::write_int(out, p.eid[static_cast<std::size_t>(p.olink_rows[static_cast<std::size_t>(r)])]);
      const std::int32_t* values = m.values.data() + r;
      for (std::int64_t j = 0; j < n_assays; ++j) {
        *out++ = ',';
        const std::int32_t v = values[j * m.n_rows];
        if (v != kMissingNpx) out = io::write_fixed(out, v, kNpxDecimals);
      }
      *out++ = '\n';
      b.commit(out);
    }
  });
  file.close();
  return file.bytes();
}

std::int64_t write_truth(const std::string& path, const std::vector<Assay>& assays,
                         const std::vector<AssayTruth>& truth) {
  io::DeliveryFile file(path);
  TextBuffer b;
  b.put(
      "symbol\tcoding\tpanel\tmodule\tloading\tmean_npx\tsd_npx\tresid_var\tmissing_rate\tmissing_fraction\tmnar\t"
      "lod_npx\tqc_drop\tage_per_10y\tsex\tbmi_per_5\tsmoking\tgamma_isolation\tor_isolation_per_sd\t"
      "planted_isolation\tgamma_loneliness\tor_loneliness_per_sd\tplanted_loneliness");
  for (const char* name : kOutcomeNames) b.put(std::string("\thr_") + name + "_per_sd\tplanted_" + name);
  b.put('\n');
  for (std::size_t j = 0; j < assays.size(); ++j) {
    const Assay& a = assays[j];
    const AssayTruth& t = truth[j];
    auto num = [&](double v, int decimals) {
      b.put('\t');
      put_double(b, v, decimals);
    };
    b.put(a.symbol);
    b.put('\t');
    b.put_int(static_cast<std::int64_t>(j) + 1);
    b.put('\t');
    b.put(std::string_view(kPanelLabels[static_cast<std::size_t>(a.panel)]));
    b.put('\t');
    b.put_int(a.module);
    num(a.loading, 4);
    num(t.mean_npx, 4);
    num(t.sd_npx, 4);
    num(t.resid_var, 4);
    num(a.missing_rate, 4);
    num(t.missing_fraction, 4);
    b.put('\t');
    b.put_int(a.mnar);
    b.put('\t');
    if (a.mnar) put_double(b, t.lod_npx, 4);
    b.put('\t');
    b.put_int(a.qc_drop);
    // Covariate effects in NPX units.
    num(a.age10 * a.scale, 4);
    num(a.male * a.scale, 4);
    num(a.bmi5 * a.scale, 4);
    num(a.smoking * a.scale, 4);
    num(t.gamma_isolation, 6);
    num(t.or_isolation, 4);
    b.put('\t');
    b.put_int(a.log_or_isolation != 0.0);
    num(t.gamma_loneliness, 6);
    num(t.or_loneliness, 4);
    b.put('\t');
    b.put_int(a.log_or_loneliness != 0.0);
    for (const double log_hr : a.log_hr) {
      num(std::exp(log_hr), 4);
      b.put('\t');
      b.put_int(log_hr != 0.0);
    }
    b.put('\n');
  }
  file.write(b.view());
  file.close();
  return file.bytes();
}

}  // namespace pwas::engine::sim
