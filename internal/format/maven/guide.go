package maven

import (
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/format/guide"
)

// Guides are the connection instructions of Maven's clients.
var Guides = []guide.Guide{
	{ID: "maven", Label: "Maven", Format: artifact.FormatMaven, Snippets: mavenSnippets},
	{ID: "gradle", Label: "Gradle", Format: artifact.FormatMaven, Snippets: gradleSnippets},
}

// mavenSnippets: the maven tab.
func mavenSnippets(k guide.Conn) []guide.Snippet {
	return []guide.Snippet{k.GetToken(),
		{ID: "maven-settings", Title: "Add the server, profile and mirror to your settings", File: "~/.m2/settings.xml", Body: `<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <servers>
    <server>
      <id>codeartifact</id>
      <username>aws</username>
      <password>${env.CODEARTIFACT_AUTH_TOKEN}</password>
    </server>
  </servers>
  <profiles>
    <profile>
      <id>default</id>
      <repositories>
        <repository>
          <id>codeartifact</id>
          <url>` + k.Endpoint + `</url>
        </repository>
      </repositories>
    </profile>
  </profiles>
  <activeProfiles>
    <activeProfile>default</activeProfile>
  </activeProfiles>
  <mirrors>
    <mirror>
      <id>codeartifact</id>
      <name>codeartifact</name>
      <url>` + k.Endpoint + `</url>
      <mirrorOf>*</mirrorOf>
    </mirror>
  </mirrors>
</settings>`, Note: "The mirror sends every Maven request through this repository, so its upstreams and external connection serve Maven Central too."},
		{ID: "maven-pom", Title: "To publish with mvn deploy, add to your project", File: "pom.xml", Body: `<distributionManagement>
  <repository>
    <id>codeartifact</id>
    <name>codeartifact</name>
    <url>` + k.Endpoint + `</url>
  </repository>
</distributionManagement>`},
	}
}

// gradleSnippets: the gradle tab.
func gradleSnippets(k guide.Conn) []guide.Snippet {
	groovyInsecure, kotlinInsecure := "", ""
	if k.Insecure() {
		groovyInsecure = "\n        allowInsecureProtocol = true"
		kotlinInsecure = "\n        isAllowInsecureProtocol = true"
	}
	return []guide.Snippet{k.GetToken(),
		{ID: "gradle-groovy", Title: "Resolve dependencies from this repository (Groovy DSL)", File: "build.gradle", Body: `repositories {
    maven {
        url '` + k.Endpoint + `'` + groovyInsecure + `
        credentials {
            username "aws"
            password System.env.CODEARTIFACT_AUTH_TOKEN
        }
    }
}`},
		{ID: "gradle-kotlin", Title: "Or with the Kotlin DSL", File: "build.gradle.kts", Body: `repositories {
    maven {
        url = uri("` + k.Endpoint + `")` + kotlinInsecure + `
        credentials {
            username = "aws"
            password = System.getenv("CODEARTIFACT_AUTH_TOKEN")
        }
    }
}`},
		{ID: "gradle-publish", Title: "To publish with the maven-publish plugin", File: "build.gradle", Body: `publishing {
    publications {
        mavenJava(MavenPublication) {
            from components.java
        }
    }
    repositories {
        maven {
            url '` + k.Endpoint + `'` + strings.ReplaceAll(groovyInsecure, "\n", "\n    ") + `
            credentials {
                username "aws"
                password System.env.CODEARTIFACT_AUTH_TOKEN
            }
        }
    }
}`},
	}
}
