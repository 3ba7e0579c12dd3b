#pragma once
// A database of its own for one test, copied from the fixture's migrated template (ng911) and
// dropped afterwards. The cluster comes from libpq's PG* variables, which ctest sets.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <unistd.h>

#include <pqxx/pqxx>

namespace ng911::test {

class TestDatabase {
 public:
  TestDatabase() {
    static std::atomic<int> counter{0};
    name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    // Two CREATE DATABASE from one template at the same moment may collide; try again briefly.
    for (int attempt = 0;; ++attempt) {
      try {
        pqxx::connection admin("dbname=postgres");
        pqxx::nontransaction tx(admin);
        tx.exec("CREATE DATABASE " + name_ + " TEMPLATE ng911");
        break;
      } catch (const pqxx::sql_error&) {
        if (attempt == 20) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  ~TestDatabase() {
    try {
      pqxx::connection admin("dbname=postgres");
      pqxx::nontransaction tx(admin);
      tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
      // The fixture's cleanup deletes the whole cluster anyway.
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  std::string conninfo() const { return "dbname=" + name_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace ng911::test
